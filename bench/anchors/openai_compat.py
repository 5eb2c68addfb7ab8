"""The official `openai` Python client against `ptune serve`: list models, completions, chat,
streaming of both, logprobs, and an error surfacing as the client's own exception type. Starts
the server itself (the ptune binary, the default model, two adapters from tests/data) on a free
loopback port and prints one line per check; exits 1 if any fails.

    .venv-ref/bin/python bench/anchors/openai_compat.py build/ptune
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_server(ptune):
    peft = os.path.join(ROOT, "tests", "data", "peft_smollm2")
    proc = subprocess.Popen(
        [ptune, "serve", "--port", "0", "--model-id", "smol",
         "--adapter", "soft=" + os.path.join(peft, "prefix_tuning"),
         "--adapter", "prompt=" + os.path.join(peft, "prompt_tuning")],
        stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    raise RuntimeError("ptune serve did not start")


def main():
    import openai
    ptune = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "ptune")
    proc, port = start_server(ptune)
    client = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % port, api_key="unused")
    results = []

    def check(name, fn):
        t0 = time.perf_counter()
        try:
            detail = fn()
            results.append((name, True, detail))
        except Exception as e:  # a failed check is reported, not raised
            results.append((name, False, "%s: %s" % (type(e).__name__, e)))
        print("%-34s %s  %s (%.2f s)" % (name, "ok  " if results[-1][1] else "FAIL",
                                         results[-1][2], time.perf_counter() - t0), flush=True)

    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    check("models.list", lambda: ", ".join(m.id for m in client.models.list().data))
    check("completions.create", lambda: repr(client.completions.create(
        model="smol", prompt="The capital of France is", max_tokens=8,
        temperature=0).choices[0].text))
    check("completions.create(stream)", lambda: repr("".join(
        c.choices[0].text for c in client.completions.create(
            model="soft", prompt="Once upon a time", max_tokens=8, temperature=0, stream=True)
        if c.choices)))
    check("chat.completions.create", lambda: repr(client.chat.completions.create(
        model="smol", messages=msgs, max_tokens=12, temperature=0).choices[0].message.content))

    def chat_stream():
        parts, usage = [], None
        for c in client.chat.completions.create(model="prompt", messages=msgs, max_tokens=12,
                                                temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
            if c.choices and c.choices[0].delta.content:
                parts.append(c.choices[0].delta.content)
            if c.usage:
                usage = c.usage.completion_tokens
        assert usage, "no usage chunk"
        return "%r, usage %d tokens" % ("".join(parts), usage)
    check("chat.completions.create(stream)", chat_stream)

    def logprobs():
        r = client.chat.completions.create(model="smol", messages=msgs, max_tokens=3,
                                           temperature=0, logprobs=True, top_logprobs=2)
        t = r.choices[0].logprobs.content[0]
        return "%r %.3f, best %r" % (t.token, t.logprob, t.top_logprobs[0].token)
    check("chat logprobs + top_logprobs", logprobs)

    def error():
        try:
            client.chat.completions.create(model="nope", messages=msgs)
        except openai.NotFoundError as e:
            return "NotFoundError: %s" % e.body.get("message", "")[:60]
        raise AssertionError("no error for an unknown model")
    check("unknown model -> NotFoundError", error)

    proc.terminate()
    proc.wait(timeout=60)
    print("openai %s: %d of %d checks passed" % (openai.__version__,
                                                 sum(ok for _, ok, _ in results), len(results)))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
