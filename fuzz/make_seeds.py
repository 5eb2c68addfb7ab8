#!/usr/bin/env python3
"""Writes the committed seed corpora of the parser fuzzers (fuzz/corpus/<target>/) from files
already in the repository: the example task files, their data (a few rows, as JSONL, CSV and
TSV), their templates, the PEFT adapter configs of tests/data, small trainer checkpoints in the
layout src/train/checkpoint_file.cpp writes, strings of the tokenizer parity corpus, and
OpenAI API request bodies.
Standard library only; run from anywhere:

    python3 fuzz/make_seeds.py

The gguf and safetensors seeds come from scripts/reference/ (see fuzz/README.md)."""
import csv
import glob
import hashlib
import io
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def task_files():
    return sorted(glob.glob(os.path.join(ROOT, "examples", "*", "*.json")) +
                  glob.glob(os.path.join(ROOT, "tests", "data", "tasks", "*", "task.json")))


def task_seeds():
    for path in task_files():
        with open(path, encoding="utf-8") as f:
            write("task", f.read())


def template_seeds():
    for path in task_files():
        with open(path, encoding="utf-8") as f:
            task = json.load(f)
        for source in task.get("templates", {}).values():
            write("template", source)
        demo = task.get("few_shot", {}).get("demo_template")
        if demo:
            write("template", demo)
    write("template", "{soft:prefix:4}{instruction}\n{{literal}} {soft}{text}{soft:2}\n{demos}{target}")


# data_fuzz.cpp's first byte: bits 0-1 format (0 JSONL, 1 CSV, 2 TSV), bit 2 skip_bad, bit 3
# the field mapping (text <- sentence, optional label, choices <- a b c).
def data_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "dev.jsonl"))):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()[:4]
        jsonl = "\n".join(lines) + "\n"
        write("data", b"\x00" + jsonl.encode())
        write("data", b"\x04" + (jsonl + "{not json\n").encode())
        rows = [json.loads(line) for line in lines]
        scalar = [{k: v for k, v in r.items() if isinstance(v, str)} for r in rows]
        columns = sorted({k for r in scalar for k in r})
        for byte, delimiter in ((b"\x01", ","), (b"\x02", "\t")):
            out = io.StringIO()
            w = csv.DictWriter(out, columns, delimiter=delimiter, lineterminator="\n")
            w.writeheader()
            w.writerows(scalar)
            write("data", byte + out.getvalue().encode())
    write("data", b"\x09" + "sentence,label,a,b,c\n\"a, \"\"quoted\"\" one\",pos,x,y,z\n".encode())
    write("data", b"\x08" + b'{"sentence": "s", "a": "1", "b": "2", "c": "3"}\n')


def peft_seeds():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "*", "*", "adapter_config.json"))):
        with open(path, "rb") as f:
            write("peft_config", f.read())
    # MULTITASK_PROMPT_TUNING (no fixture of it yet): PEFT's keys for the method.
    write("peft_config", json.dumps({
        "peft_type": "MULTITASK_PROMPT_TUNING", "task_type": "CAUSAL_LM", "inference_mode": True,
        "num_virtual_tokens": 4, "token_dim": 576, "num_transformer_submodules": 1,
        "num_attention_heads": 9, "num_layers": 30, "prompt_tuning_init": "RANDOM",
        "prompt_tuning_init_text": None, "tokenizer_name_or_path": None,
        "tokenizer_kwargs": None, "num_ranks": 1, "num_tasks": 2,
        "prompt_tuning_init_state_dict_path": None, "prompt_tuning_init_task": 0,
        "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct", "revision": None,
    }, indent=2, sort_keys=True))


def tokenizer_seeds():
    """Every 50th string of the tokenizer parity corpus, plus chat markers and broken UTF-8."""
    with open(os.path.join(ROOT, "tests", "data", "tokenizer", "corpus.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    for text in texts[::50]:
        write("tokenizer", text)
    write("tokenizer", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    write("tokenizer", b"caf\xc3 \xff\xfe<|endoftext|>\xe2\x82")


def safetensors_file(tensors, metadata):
    """tensors: [(name, shape, [float, ...])] as F32; metadata: {str: str}."""
    header = {"__metadata__": metadata}
    blob = b""
    for name, shape, values in tensors:
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def checkpoint_seeds():
    settings = {"batch_size": "4", "lr": "0.29999999999999999", "seed": "0", "num_params": "1",
                "method": "prompt_tuning", "template": "default"}
    for has_best in (False, True):
        meta = {"format": "ptune-train-checkpoint", "version": "2", "step": "6",
                "has_best": "1" if has_best else "0", "best_metric": "0.75" if has_best else "0",
                "best_step": "4" if has_best else "0", "evals_since_best": "1", "stopped": "0",
                "log_bytes": "512", "train_seconds": "1.5", "train_examples": "24",
                "run_seconds": "2.25"}
        meta.update({"setting." + k: v for k, v in settings.items()})
        tensors = [("param.0", [2, 3], [0.1, -0.2, 0.3, 0.4, 0.5, -0.6]),
                   ("exp_avg.0", [2, 3], [0.01] * 6),
                   ("exp_avg_sq.0", [2, 3], [0.001] * 6)]
        if has_best:
            tensors.append(("best.0", [2, 3], [0.0] * 6))
        write("checkpoint", safetensors_file(tensors, meta))


def api_request_seeds():
    """Request bodies of /v1/completions, /v1/chat/completions, /v1/classify and POST
    /v1/adapters (byte 0 is 0, 1, 2 or 3)."""
    completions = [
        {"model": "m", "prompt": "Hello", "max_tokens": 5},
        {"model": "m", "prompt": ["Hi"], "temperature": 0.5, "top_p": 0.9, "seed": 7,
         "stop": ["\n", "."], "stream": True, "stream_options": {"include_usage": True}},
        {"model": "m", "prompt": "x", "logprobs": 2, "n": 1, "presence_penalty": 0, "echo": False,
         "user": "u", "logit_bias": {}, "suffix": None},
        {"model": "m", "prompt": "T: ok\nL: good", "echo": True, "logprobs": 1, "max_tokens": 0},
    ]
    chats = [
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}]},
        {"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
                                    {"role": "user", "content": [{"type": "text", "text": "a"}]},
                                    {"role": "assistant", "content": "b"}],
         "max_completion_tokens": 8, "logprobs": True, "top_logprobs": 3, "stream": True},
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format":
         {"type": "text"}, "tools": [], "max_tokens": 3},
    ]
    for body in completions:
        write("api_request", b"\x00" + json.dumps(body).encode())
    for body in chats:
        write("api_request", b"\x01" + json.dumps(body).encode())
    for body in [{"model": "m", "input": "I forgot my password"},
                 {"model": "m", "input": ["a", {"text": "b", "title": "c"}]}]:
        write("api_request", b"\x02" + json.dumps(body).encode())
    write("api_request", b"\x03" + json.dumps({"name": "router", "path": "/adapters/r"}).encode())


def api_response_seeds():
    """Responses `eval --endpoint` reads (byte 0: 0 echo, 1 top log-probs, 2 answer text,
    3 Retry-After values; bytes 1-2 the context and continuation lengths or the chat flag)."""
    echo = {"choices": [{"text": "T: ok\nL: good!", "logprobs": {
        "tokens": ["T", ":", " ok", "\n", "L", ":", " good", "!"],
        "token_logprobs": [None, -1.0, -2.0, -0.5, -0.1, -0.2, -1.5, -3.0],
        "text_offset": [0, 1, 2, 5, 6, 7, 8, 13],
        "top_logprobs": [None, {":": -1.0}, {" ok": -2.0}, {"\n": -0.5}, {"L": -0.1},
                         {":": -0.2}, {" good": -1.5}, {"!": -3.0}]}}]}
    write("api_response", b"\x00\x08\x05" + json.dumps(echo).encode())
    chat = {"choices": [{"message": {"role": "assistant", "content": "positive"}, "logprobs": {
        "content": [{"token": "positive", "logprob": -0.1, "bytes": [112], "top_logprobs": [
            {"token": "positive", "logprob": -0.1}, {"token": "neg", "logprob": -2.5}]}]}}]}
    write("api_response", b"\x01\x01\x00" + json.dumps(chat).encode())
    comp = {"choices": [{"text": " pos", "logprobs": {"tokens": [" pos"], "token_logprobs": [-0.3],
                                                      "top_logprobs": [{" pos": -0.3, " neg": -1.4}],
                                                      "text_offset": [12]}}]}
    write("api_response", b"\x01\x00\x00" + json.dumps(comp).encode())
    write("api_response", b"\x02\x01\x00" + json.dumps(chat).encode())
    write("api_response", b"\x02\x00\x00" + json.dumps({"choices": [{"text": " Card arrival."}]}).encode())
    write("api_response", b"\x03\x00\x00" + b"Wed, 21 Oct 2026 07:28:00 GMT\n250")
    write("api_response", b"\x03\x00\x00" + b"1.5")


if __name__ == "__main__":
    task_seeds()
    template_seeds()
    data_seeds()
    peft_seeds()
    checkpoint_seeds()
    tokenizer_seeds()
    api_request_seeds()
    api_response_seeds()
    for target in ("task", "template", "data", "peft_config", "checkpoint", "tokenizer",
                   "api_request", "api_response"):
        n = len(os.listdir(os.path.join(CORPUS, target)))
        print("fuzz/corpus/%s: %d seeds" % (target, n))
