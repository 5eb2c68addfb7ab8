"""The load run of `ptune serve` (issue 12 item 6): N concurrent clients on loopback, 8 tuned
prompts mixed, each client sending one streamed completion and retrying a 429 after its
Retry-After (plus up to 0.5 s of jitter, at most 60 tries). Starts the server itself (the
ptune binary, the default model, the eight PEFT-format adapters of tests/data) and prints one
JSON line: requests sent, completed, retried after 429, failed, lost (neither completed nor
failed), p50 and p99 latency (first try to last byte), wall time and the server's peak RSS.
Standard library only.

    python3 bench/anchors/load_run.py build/ptune --clients 200 --max-tokens 16
"""
import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADAPTERS = ["peft_smollm2/prompt_tuning", "peft_smollm2/p_tuning", "peft_smollm2/prefix_tuning",
            "ptune_smollm2/p_tuning_lstm", "ptune_smollm2/p_tuning_mlp",
            "ptune_smollm2/prefix_tuning", "ptune_smollm2/prefix_tuning_projection",
            "ptune_smollm2/prompt_tuning"]


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ptune")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--max-sequences", type=int, default=32)
    ap.add_argument("--max-queue", type=int, default=64)
    args = ap.parse_args()

    cmd = [args.ptune, "serve", "--port", "0", "--threads", "2", "--model-id", "base",
           "--max-sequences", str(args.max_sequences), "--max-queue", str(args.max_queue)]
    for i, a in enumerate(ADAPTERS):
        cmd += ["--adapter", "a%d=%s" % (i, os.path.join(ROOT, "tests", "data", a))]
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    threading.Thread(target=server.stderr.read, daemon=True).start()

    lock = threading.Lock()
    counts = {"sent": 0, "completed": 0, "retried": 0, "failed": 0}
    latency = []
    reasons = []

    def client(k):
        rng = random.Random(k)
        start = time.time()
        body = json.dumps({"model": "a%d" % (k % len(ADAPTERS)),
                           "prompt": "Request %d: write a friendly reply to a customer whose card "
                                     "payment was declined." % k,
                           "max_tokens": args.max_tokens, "temperature": 0, "stream": True})
        for _ in range(60):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                status, retry_after = r.status, float(r.getheader("Retry-After", "1"))
                c.close()
            except Exception as e:  # a dropped connection is a failure, not a retry
                status, data = 0, ("%s: %s" % (type(e).__name__, e)).encode()
            with lock:
                counts["sent"] += 1
                if status == 429:
                    counts["retried"] += 1
                elif status == 200 and data.rstrip().endswith(b"data: [DONE]"):
                    counts["completed"] += 1
                    latency.append(time.time() - start)
                    return
                else:
                    counts["failed"] += 1
                    reasons.append("status %d: %s" % (status, data[-120:].decode(errors="replace")))
                    return
            time.sleep(retry_after + rng.random() * 0.5)
        with lock:
            counts["failed"] += 1

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    rss = peak_rss_mib(server.pid)
    server.terminate()
    server.wait(timeout=120)
    latency.sort()
    out = dict(counts, clients=args.clients,
               lost=args.clients - counts["completed"] - counts["failed"],
               p50_s=round(statistics.median(latency), 2) if latency else None,
               p99_s=round(latency[min(len(latency) - 1, int(0.99 * len(latency)))], 2)
               if latency else None,
               wall_s=round(wall, 1), server_peak_rss_mib=round(rss), server_exit=server.returncode,
               failures=sorted(set(reasons))[:5])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
