#!/usr/bin/env python3
"""Eval anchor for bench/eval_bench: rank classification with a plain transformers loop.

Reads a JSON file written by eval_bench:
  {"model": PATH, "threads": T, "examples": [{"prompt": TEXT, "continuations": [TEXT, ...],
   "gold": INDEX}, ...]}
and for every example, for every continuation: tokenizes the prompt (special tokens as the GGUF
tokenizer adds them) and the continuation (no special tokens), runs ONE forward of
model(prompt_ids + continuation_ids) with the full logits (what a plain Hugging Face loop does),
and sums the continuation's log-probs (log_softmax over the vocabulary). Prediction = argmax.
The model is the same GGUF, dequantized to fp32 by transformers; torch.set_num_threads(T);
torch.inference_mode. One warmup example is run first and not timed.

Prints ONE JSON object on stdout:
  {"examples": N, "seconds": S, "examples_per_s": N/S, "accuracy": A, "scores": [[...], ...],
   "transformers": VERSION, "torch": VERSION}  or  {"error": "..."}
Usage: eval_transformers.py INPUT.json
"""
import json
import os
import sys
import time


def main():
    spec = json.load(open(sys.argv[1]))
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(int(spec["threads"]))
        d, f = os.path.split(os.path.abspath(spec["model"]))
        tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
        model.eval()

        def score(ex):
            out = []
            for cont in ex["continuations"]:
                ctx = tok(ex["prompt"], add_special_tokens=True)["input_ids"]
                cid = tok(cont, add_special_tokens=False)["input_ids"]
                ids = torch.tensor([ctx + cid])
                with torch.inference_mode():
                    logits = model(input_ids=ids).logits[0]
                logp = torch.log_softmax(logits.float(), -1)
                n = len(ctx)
                out.append(sum(logp[n - 1 + t, c].item() for t, c in enumerate(cid)))
            return out

        exs = spec["examples"]
        score(exs[0])  # warmup
        t0 = time.perf_counter()
        scores = [score(ex) for ex in exs]
        secs = time.perf_counter() - t0
        correct = sum(int(max(range(len(s)), key=lambda j: s[j]) == ex["gold"]) for s, ex in zip(scores, exs))
        res = {"examples": len(exs), "seconds": secs, "examples_per_s": len(exs) / secs,
               "accuracy": correct / len(exs), "scores": scores,
               "transformers": transformers.__version__, "torch": torch.__version__}
    except Exception as e:  # missing package, API drift: report, do not crash
        res = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
