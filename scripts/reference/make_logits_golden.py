#!/usr/bin/env python3
"""Golden logits and greedy continuations for SmolLM2 from Hugging Face transformers (fp32).

Reference for ptune's LlamaModel: transformers loads the GGUF, dequantizes every tensor to
float32 (and un-permutes the Q/K rows that convert_hf_to_gguf permuted, which is expected),
and runs the plain HF Llama forward in eval mode.

Writes tests/data/reference/smollm2_logits.json:
  model_file, model_sha256, transformers_version, torch_version, vocab_stride (128),
  prompts: [{
    name, text,
    ids:        token ids of `text` (tokenizer(text, add_special_tokens=False); the GGUF says
                add_bos=false, so this equals the default encoding; checked below),
    positions:  one entry per prompt position t (logits predicting token t+1):
                  top_ids [10], top_logits [10]         (descending),
                  strided_logits [V/128]                (logits at vocab ids 0, 128, 256, ...),
    greedy_ids:     48 ids of a raw greedy continuation (argmax every step, never stopping at
                    EOS: an EOS token is fed back like any other token),
    greedy_margins: top1 - top2 logit at each of those 48 steps (small = near-tie, fragile),
  }]
Floats are written with the shortest decimal that round-trips the float32 value
(strtof / np.float32(float(s)) recovers the exact float32).

Also checks (printed, not stored) that batched runs with left and with right padding give the
same logits as single-sequence runs.

Usage: scripts/reference/make_logits_golden.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]
                                               [--out tests/data/reference/smollm2_logits.json]
Needs the reference venv (scripts/reference/make_venv); never needed by CI or tests.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOCAB_STRIDE = 128
TOP_K = 10
GREEDY_STEPS = 48

LONG_TEXT = (
    "The history of computing is longer than the history of computing hardware and modern "
    "computing technology and includes the history of methods intended for pen and paper or for "
    "chalk and slate, with or without the aid of tables. Digital computing is intimately tied to "
    "the representation of numbers. But long before abstractions like the number arose, there "
    "were mathematical concepts to serve the purposes of civilization. These concepts are "
    "implicit in concrete practices such as one-to-one correspondence, the basis of counting, "
    "and comparison to a standard, used for measurement. The earliest known tool for use in "
    "computation was the abacus, and it was thought to have been invented in Babylon circa 2400 "
    "BC. Its original style of usage was by lines drawn in sand with pebbles."
)

CODE_TEXT = (
    "def fibonacci(n: int) -> list[int]:\n"
    "    \"\"\"Return the first n Fibonacci numbers.\"\"\"\n"
    "    a, b = 0, 1\n"
    "    out = []\n"
    "    for _ in range(n):\n"
    "        out.append(a)\n"
    "        a, b = b, a + b\n"
    "    return out\n"
)

# (name, text) pairs; the chat prompt is rendered from the tokenizer's chat template below.
PLAIN_PROMPTS = [
    ("short", "The capital of France is"),
    ("single_token", "Hello"),
    ("long", LONG_TEXT),
    ("code", CODE_TEXT),
    ("non_english", "Le renard brun saute par-dessus le chien paresseux. "
                    "Der Himmel ist blau. 東京は日本の首都です。 Москва — столица России."),
    ("digits", "In 1969, 3 astronauts flew 384400 km; pi = 3.14159265358979 and 2^10 = 1024."),
    ("whitespace", "Hello,   world!\n\n\tTabs and  spaces... don't we'll I'm\n"),
]
CHAT_MESSAGES = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]


def f32(x):
    """Shortest decimal string that round-trips float32, as a Python float for json."""
    return float(str(np.float32(x)))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@torch.no_grad()
def logits_single(model, ids):
    """[T] ids -> [T, V] float32 logits."""
    return model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float()


@torch.no_grad()
def greedy(model, ids, steps):
    """Raw greedy decoding with the KV cache; returns (ids, margins). Never stops at EOS."""
    out = model(input_ids=torch.tensor([ids]), use_cache=True)
    past, logits = out.past_key_values, out.logits[0, -1].float()
    gen, margins = [], []
    for _ in range(steps):
        top2 = torch.topk(logits, 2)
        nxt = int(top2.indices[0])
        gen.append(nxt)
        margins.append(float(top2.values[0] - top2.values[1]))
        out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1].float()
    return gen, margins


@torch.no_grad()
def check_padding(model, all_ids, singles, pad_id):
    """Batched forward with left and right padding vs single runs; returns max-abs per side."""
    T = max(len(x) for x in all_ids)
    res = {}
    for side in ("left", "right"):
        ids = torch.full((len(all_ids), T), pad_id, dtype=torch.long)
        mask = torch.zeros((len(all_ids), T), dtype=torch.long)
        for b, x in enumerate(all_ids):
            sl = slice(T - len(x), T) if side == "left" else slice(0, len(x))
            ids[b, sl] = torch.tensor(x)
            mask[b, sl] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits
        worst = 0.0
        for b, x in enumerate(all_ids):
            sl = slice(T - len(x), T) if side == "left" else slice(0, len(x))
            worst = max(worst, float((logits[b, sl].float() - singles[b]).abs().max()))
        res[side] = worst
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "reference", "smollm2_logits.json"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_file)
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file, dtype=torch.float32)
    model.eval()
    print(f"loaded {model_file} in {time.time() - t0:.1f}s (transformers {transformers.__version__}, "
          f"torch {torch.__version__}, attn {model.config._attn_implementation})", file=sys.stderr)

    chat_text = tok.apply_chat_template(CHAT_MESSAGES, tokenize=False, add_generation_prompt=True)
    prompts = PLAIN_PROMPTS + [("chat", chat_text)]

    entries, all_ids, singles = [], [], []
    V = model.config.vocab_size
    for name, text in prompts:
        ids = tok(text, add_special_tokens=False).input_ids
        # The GGUF has add_bos=false: the default encoding must add nothing.
        assert ids == tok(text).input_ids, f"{name}: add_special_tokens changes the ids"
        if name == "chat":
            templ = tok.apply_chat_template(CHAT_MESSAGES, tokenize=True, add_generation_prompt=True)
            templ = templ["input_ids"] if isinstance(templ, dict) or hasattr(templ, "keys") else templ
            assert list(templ) == ids, "chat: template tokenization differs from text tokenization"
            assert ids[0] == tok.convert_tokens_to_ids("<|im_start|>")
        logits = logits_single(model, ids)
        assert logits.shape == (len(ids), V)
        top = torch.topk(logits, TOP_K, dim=-1)
        strided = logits[:, ::VOCAB_STRIDE]
        positions = [{
            "top_ids": [int(i) for i in top.indices[t]],
            "top_logits": [f32(v) for v in top.values[t]],
            "strided_logits": [f32(v) for v in strided[t]],
        } for t in range(len(ids))]
        g_ids, g_margins = greedy(model, ids, GREEDY_STEPS)
        entries.append({"name": name, "text": text, "ids": ids, "positions": positions,
                        "greedy_ids": g_ids, "greedy_margins": [f32(m) for m in g_margins]})
        all_ids.append(ids)
        singles.append(logits)
        near = [(s, m) for s, m in enumerate(g_margins) if m < 1e-3]
        print(f"{name:13s} T={len(ids):3d} greedy={tok.decode(g_ids)[:60]!r} "
              f"min_margin={min(g_margins):.3g}@{int(np.argmin(g_margins))}"
              + (f" NEAR-TIES(<1e-3) {near}" if near else ""), file=sys.stderr)

    pad = check_padding(model, all_ids, singles, tok.pad_token_id)
    print(f"sanity: batched vs single max-abs logits diff: left padding {pad['left']:.3g}, "
          f"right padding {pad['right']:.3g}", file=sys.stderr)

    doc = {
        "model_file": model_file,
        "model_sha256": sha256(args.model),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "generator": "scripts/reference/make_logits_golden.py",
        "vocab_size": V,
        "vocab_stride": VOCAB_STRIDE,
        "greedy_steps": GREEDY_STEPS,
        "prompts": entries,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB, "
          f"{sum(len(e['ids']) for e in entries)} positions)", file=sys.stderr)


if __name__ == "__main__":
    main()
