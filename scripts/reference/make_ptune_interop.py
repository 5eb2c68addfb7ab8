#!/usr/bin/env python3
"""Adapters trained by ptune, loaded by Hugging Face PEFT, with the logits PEFT computes.

Run with the reference venv, after scripts/setup has built ptune:
    /opt/ptune-ref/bin/python scripts/reference/make_ptune_interop.py [--threads 2]

For each method, `ptune tune` trains a short run (8 virtual tokens, 4 steps, seed 0) on
examples/sentiment and writes its PEFT artifact into tests/data/ptune_smollm2/<name>/ (the run
record ptune_train.json is dropped: it holds timings). PEFT then loads the artifact with
PeftModel.from_pretrained on transformers' model of the same GGUF (dequantized, fp32) and runs
the 5 inputs of make_peft_interop.py; logits.json has the same layout as there.
tests/methods/peft_interop_test.cpp loads each artifact with ptune and checks PEFT's logits
within 2e-3.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_peft_interop import REPO, STRIDE, input_cases  # noqa: E402

OUT = os.path.join(REPO, "tests", "data", "ptune_smollm2")
METHODS = {  # fixture name -> ptune tune arguments
    "prompt_tuning": ["--method", "prompt-tuning"],
    "p_tuning_mlp": ["--method", "p-tuning", "--encoder", "mlp", "--lr", "0.003"],
    "p_tuning_lstm": ["--method", "p-tuning", "--encoder", "lstm", "--encoder-hidden", "64",
                      "--lr", "0.003"],
    "prefix_tuning": ["--method", "prefix-tuning"],
    "prefix_tuning_projection": ["--method", "prefix-tuning", "--prefix-projection",
                                 "--lr", "0.0003"],
}


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--ptune", default=os.path.join(REPO, "build", "ptune"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_file)
    base = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file, dtype=torch.float32)
    for name, extra in METHODS.items():
        out = os.path.join(OUT, name)
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([args.ptune, "tune", "--model", args.model, "--threads", str(args.threads),
                        "--task", os.path.join(REPO, "examples", "sentiment", "task.json"),
                        "-o", out, "--virtual-tokens", "8", "--max-steps", "4", "--seed", "0",
                        "--dev-limit", "4", "--progress", "off"] + extra, check=True)
        os.remove(os.path.join(out, "ptune_train.json"))
        loaded = PeftModel.from_pretrained(base, out).eval()
        cases = input_cases(loaded, tok)
        base = loaded.unload() if hasattr(loaded, "unload") else loaded.base_model
        with open(os.path.join(out, "logits.json"), "w") as f:
            json.dump({"generator": "scripts/reference/make_ptune_interop.py", "vocab_stride": STRIDE,
                       "ptune_args": extra, "inputs": cases}, f)
        print(f"{name}: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
