#!/usr/bin/env python3
"""Full-vocabulary logits check: ptune vs transformers at every position of the golden prompts.

For each prompt of tests/data/reference/smollm2_logits.json, runs
    build/ptune logits -m MODEL --ids I0,I1,... --dump FILE
(FILE = raw little-endian float32 logits [T, V]) and compares against transformers' fp32 forward
of the same ids over all V logits at every position. Prints per prompt: max-abs and mean-abs
difference, the position of the max, argmax agreement; then the overall max-abs.
Also checks that the dump agrees with the golden file's stored top-10 / strided logits (these
were written by the same transformers version, so it only catches a stale golden file).

Exit status 1 if the overall max-abs exceeds --tol (default 1e-3).

Usage: scripts/reference/check_logits_full.py [--ptune build/ptune] [--model PATH] [--tol 1e-3]
Needs the reference venv (scripts/reference/make_venv) and a built ptune.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ptune_logits(ptune, model, ids, threads, V):
    with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as tmp:
        path = tmp.name
    try:
        cmd = [ptune, "logits", "-m", model, "--ids", ",".join(map(str, ids)), "--dump", path]
        if threads:
            cmd += ["--threads", str(threads)]
        t0 = time.time()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd[:4])} ... failed ({r.returncode}): {r.stderr.strip()}")
        data = np.fromfile(path, dtype="<f4")
        if data.size != len(ids) * V:
            sys.exit(f"dump has {data.size} floats, expected T*V = {len(ids)}*{V}")
        return data.reshape(len(ids), V), time.time() - t0
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ptune", default=os.environ.get("PTUNE_BIN", os.path.join(REPO, "build", "ptune")))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--golden", default=os.path.join(REPO, "tests", "data", "reference", "smollm2_logits.json"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-3, help="max-abs logit difference allowed")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with open(args.golden) as f:
        golden = json.load(f)
    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    if model_file != golden["model_file"]:
        print(f"note: golden file was made for {golden['model_file']}, checking {model_file}")
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file, dtype=torch.float32)
    model.eval()
    V = model.config.vocab_size
    stride = golden["vocab_stride"]

    overall, stale = 0.0, 0.0
    print(f"{'prompt':13s} {'T':>4s} {'max_abs':>10s} {'at(t,v)':>12s} {'mean_abs':>10s} "
          f"{'argmax_agree':>12s} {'ptune_s':>7s}")
    for p in golden["prompts"]:
        ids = p["ids"]
        with torch.no_grad():
            ref = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float().numpy()
        got, secs = ptune_logits(args.ptune, args.model, ids, args.threads, V)
        diff = np.abs(got.astype(np.float64) - ref)
        t, v = np.unravel_index(int(diff.argmax()), diff.shape)
        agree = int((got.argmax(-1) == ref.argmax(-1)).sum())
        overall = max(overall, float(diff.max()))
        print(f"{p.get('name', '?'):13s} {len(ids):4d} {diff.max():10.3g} {f'({t},{v})':>12s} "
              f"{diff.mean():10.3g} {f'{agree}/{len(ids)}':>12s} {secs:7.2f}")
        # The golden file itself (same reference) against the fresh transformers run.
        for tt, pos in enumerate(p["positions"]):
            stale = max(stale, float(np.abs(ref[tt, ::stride] - np.float32(pos["strided_logits"])).max()))
            stale = max(stale, float(np.abs(ref[tt, pos["top_ids"]] - np.float32(pos["top_logits"])).max()))
    print(f"overall max-abs |ptune - transformers| over all positions and the full vocabulary: {overall:.3g} "
          f"(tol {args.tol:g})")
    print(f"golden file vs this transformers run: max-abs {stale:.3g}")
    sys.exit(0 if overall <= args.tol else 1)


if __name__ == "__main__":
    main()
