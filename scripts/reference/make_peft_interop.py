#!/usr/bin/env python3
"""PEFT adapters on the real default model, with the logits PEFT computes through them.

Run with the reference venv:
    /opt/ptune-ref/bin/python scripts/reference/make_peft_interop.py [--threads 1]

Base model: transformers loading models/SmolLM2-135M-Instruct.Q4_1.gguf (dequantized, fp32), the
same model ptune runs. For each method a PEFT adapter is made with a fixed seed (prompt tuning:
8 virtual tokens initialised from the embeddings of sampled vocabulary rows, so activations look
like real ones; prefix tuning: 4 virtual tokens, no projection, random N(0, 0.5) keys/values;
P-tuning: 6 virtual tokens, MLP encoder of hidden size 64, PEFT's own initialisation),
saved with save_pretrained into tests/data/peft_smollm2/<method>/, reloaded with
PeftModel.from_pretrained, and run on 5 inputs. For each input the file logits.json holds, at every
position of the real tokens, the top-10 ids/logits and the logits at vocab ids 0, 128, 256, ...
(same layout as tests/data/reference/smollm2_logits.json). tests/model/peft_interop_test.cpp loads
the adapter with ptune and checks the logits within 2e-3.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
from peft import (PeftModel, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig,
                  get_peft_model)
from transformers import AutoModelForCausalLM, AutoTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "tests", "data", "peft_smollm2")
STRIDE, TOP_K = 128, 10
INPUTS = [
    "The movie was absolutely wonderful.",
    "Review: the battery died after two days. Sentiment:",
    "Where is my order? I paid for express shipping a week ago.",
    "Translate to French: good morning",
    "1, 2, 3, 4,",
]


def f32(x):
    return float(str(np.float32(x)))


def positions_json(logits):
    top = torch.topk(logits, TOP_K, dim=-1)
    return [{"top_ids": [int(i) for i in top.indices[t]],
             "top_logits": [f32(v) for v in top.values[t]],
             "strided_logits": [f32(v) for v in logits[t, ::STRIDE]]} for t in range(logits.shape[0])]


def input_cases(peft_model, tok):
    """The golden entries of every input: its ids and the logits at its own positions."""
    cases = []
    for text in INPUTS:
        ids = tok(text, add_special_tokens=False).input_ids
        logits = peft_model(input_ids=torch.tensor([ids])).logits[0].float()
        n_virtual = logits.shape[0] - len(ids)  # prompt methods return virtual positions too
        cases.append({"text": text, "ids": ids, "positions": positions_json(logits[n_virtual:])})
    return cases


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_file)

    def base():
        m = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file, dtype=torch.float32)
        return m.eval()

    methods = {
        "prompt_tuning": PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=8,
                                            prompt_tuning_init="SAMPLE_VOCAB"),
        "prefix_tuning": PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4),
        # PEFT saves P-tuning's encoder output; its default N(0, 1) embeddings through the MLP
        # give prompt vectors of about the scale of real token embeddings.
        "p_tuning": PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=6,
                                        encoder_hidden_size=64),
    }
    for name, config in methods.items():
        torch.manual_seed(0)
        peft_model = get_peft_model(base(), config)
        if name == "prefix_tuning":  # PEFT's default init is N(0, 1) embeddings; keep it modest
            emb = peft_model.prompt_encoder["default"].embedding.weight
            emb.copy_(torch.randn_like(emb) * 0.5)
        out = os.path.join(OUT, name)
        shutil.rmtree(out, ignore_errors=True)
        peft_model.save_pretrained(out)
        # Reload through PEFT's own loader, as a user would.
        loaded = PeftModel.from_pretrained(base(), out).eval()
        cases = input_cases(loaded, tok)
        with open(os.path.join(out, "logits.json"), "w") as f:
            json.dump({"generator": "scripts/reference/make_peft_interop.py", "vocab_stride": STRIDE,
                       "inputs": cases}, f)
        print(f"{name}: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
