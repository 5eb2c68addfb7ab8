"""`ptune serve` side by side with llama.cpp's server (llama-cpp-python[server]) on the same GGUF:
the same requests to both (models, completions plain / streamed / with logprobs / echo-scored,
chat plain / streamed / with top_logprobs), and for each the response fields one has and the
other lacks (recursively, with their JSON types) and whether the greedy text agrees. Then
`ptune eval --endpoint` against llama.cpp's server: the scoring mode it finds there and its
predictions next to a local `ptune eval`'s. Prints a report; exits 1 when ptune lacks a field
llama.cpp's server returns or a request fails on ptune.

    .venv-ref/bin/python bench/anchors/llama_server_compat.py build/ptune [MODEL.gguf]
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSGS = [{"role": "user", "content": "What is the capital of France?"}]
REQUESTS = [
    ("models", "GET", "/v1/models", None),
    ("completions", "POST", "/v1/completions",
     {"prompt": "The capital of France is", "max_tokens": 8, "temperature": 0}),
    ("completions stream", "POST", "/v1/completions",
     {"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0, "stream": True}),
    ("completions logprobs", "POST", "/v1/completions",
     {"prompt": "The capital of France is", "max_tokens": 3, "temperature": 0, "logprobs": 2}),
    ("completions echo scoring", "POST", "/v1/completions",
     {"prompt": "Review: a joy to watch.\nSentiment: positive", "max_tokens": 1,
      "temperature": 0, "logprobs": 1, "echo": True}),
    ("chat", "POST", "/v1/chat/completions",
     {"messages": MSGS, "max_tokens": 12, "temperature": 0}),
    ("chat stream", "POST", "/v1/chat/completions",
     {"messages": MSGS, "max_tokens": 12, "temperature": 0, "stream": True}),
    ("chat top_logprobs", "POST", "/v1/chat/completions",
     {"messages": MSGS, "max_tokens": 3, "temperature": 0, "logprobs": True, "top_logprobs": 2}),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, seconds=180):
    for _ in range(seconds * 10):
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/v1/models" % port, timeout=2)
            return True
        except Exception:
            time.sleep(0.1)
    return False


def call(port, method, path, body):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            text = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    if body and body.get("stream"):
        chunks = [json.loads(l[6:]) for l in text.splitlines()
                  if l.startswith("data: ") and l != "data: [DONE]"]
        return status, chunks
    return status, json.loads(text)


# Objects keyed by data (completions' top_logprobs: token -> log-prob), not by field names.
MAPS = (".logprobs.top_logprobs[]",)
# Fields llama.cpp's server adds that OpenAI's API does not define.
NOT_OPENAI = {".data[].permissions"}


def shape(v, path=""):
    """Every field path with its JSON type; list items merged."""
    out = {}
    if isinstance(v, dict) and path.endswith(MAPS):
        out[path] = "map"
    elif isinstance(v, dict):
        for k, x in v.items():
            out.update(shape(x, path + "." + k))
    elif isinstance(v, list):
        out[path] = "array"
        for x in v:
            for p, t in shape(x, path + "[]").items():
                out.setdefault(p, t)
    else:
        out[path] = {bool: "bool", int: "number", float: "number", str: "string",
                     type(None): "null"}[type(v)]
    return out


def text_of(name, r):
    if not isinstance(r, (dict, list)):
        return None
    if isinstance(r, list):
        return "".join((c["choices"][0].get("text") or (c["choices"][0].get("delta") or {})
                        .get("content") or "") for c in r if c.get("choices"))
    c = (r.get("choices") or [{}])[0]
    return c.get("text") if "text" in c else (c.get("message") or {}).get("content")


def main():
    ptune = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "ptune")
    model = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PTUNE_MODEL") or \
        os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    tmp = tempfile.mkdtemp()
    lp, pp = free_port(), free_port()
    llama = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model,
                              "--host", "127.0.0.1", "--port", str(lp), "--n_threads", "2",
                              "--n_ctx", "2048", "--model_alias", "base", "--logits_all", "True",
                              "--interrupt_requests", "False"],
                             stdout=open(tmp + "/llama.log", "w"), stderr=subprocess.STDOUT)
    ptune_srv = subprocess.Popen([ptune, "serve", "-m", model, "--port", str(pp), "--model-id",
                                  "base"], stdout=open(tmp + "/ptune.log", "w"),
                                 stderr=subprocess.STDOUT)
    bad = 0
    try:
        if not wait_ready(lp, llama) or not wait_ready(pp, ptune_srv):
            print("a server did not start; logs in", tmp)
            return 1
        print("| request | llama.cpp | ptune | fields only llama.cpp has | fields only ptune has "
              "| type differences | greedy text |")
        print("|---|---|---|---|---|---|---|")
        for name, method, path, body in REQUESTS:
            b = dict(body, model="base") if body is not None else None
            ls, lr = call(lp, method, path, b)
            ps, pr = call(pp, method, path, b)
            lsh = shape(lr) if ls == 200 else {}
            psh = shape(pr) if ps == 200 else {}
            only_l = sorted(set(lsh) - set(psh))
            only_p = sorted(set(psh) - set(lsh))
            types = sorted(p for p in set(lsh) & set(psh)
                           if lsh[p] != psh[p] and "null" not in (lsh[p], psh[p]))
            lt, pt = text_of(name, lr), text_of(name, pr)
            same = "-" if lt is None or pt is None else ("same" if lt == pt else
                                                          "%r vs %r" % (lt[:30], pt[:30]))
            if ps != 200 or (ls == 200 and set(only_l) - NOT_OPENAI):
                bad += 1
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, ls, ps, ", ".join(only_l) or "-", ", ".join(only_p) or "-",
                ", ".join("%s (%s / %s)" % (p, lsh[p], psh[p]) for p in types) or "-", same))
        # ptune's client against llama.cpp's server.
        task = os.path.join(ROOT, "examples", "sentiment", "task.json")
        common = ["--task", task, "--limit", "20", "--progress", "off", "--no-record", "--json"]
        remote = subprocess.run([ptune, "eval", "--endpoint", "http://127.0.0.1:%d/v1" % lp,
                                 "--remote-model", "base", "-o", tmp + "/remote"] + common,
                                capture_output=True, text=True)
        local = subprocess.run([ptune, "eval", "-m", model, "-o", tmp + "/local"] + common,
                               capture_output=True, text=True)
        if remote.returncode != 0:
            print("\nptune eval --endpoint (llama.cpp server) failed:", remote.stderr.strip())
            bad += 1
        else:
            rs, ls_ = json.loads(remote.stdout), json.loads(local.stdout)
            rp = [json.loads(l)["prediction"] for l in open(tmp + "/remote/examples.jsonl")]
            lp_ = [json.loads(l)["prediction"] for l in open(tmp + "/local/examples.jsonl")]
            print("\nptune eval --endpoint against llama.cpp's server (sentiment, 20 examples): "
                  "scoring %s, accuracy %.3f (local ptune eval %.3f), %d of 20 predictions as "
                  "local, %d calls" % (rs["remote"].get("scoring"),
                                       rs["metrics"]["accuracy"]["value"],
                                       ls_["metrics"]["accuracy"]["value"],
                                       sum(a == b for a, b in zip(rp, lp_)),
                                       rs["remote"]["client"]["calls"]))
    finally:
        for p in (llama, ptune_srv):
            p.terminate()
            p.wait(timeout=60)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
