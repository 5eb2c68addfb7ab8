#!/usr/bin/env python3
"""The prompt-learning results table of examples/<task>/README.md, measured afresh.

    python3 scripts/examples/tune_results.py [--tasks sentiment support-intent] [--threads 2]
        [--methods prompt-tuning p-tuning prefix-tuning prefix-projection] [--no-baselines]

For each task (test split, accuracy with its 95% bootstrap interval):
  zero-shot   every template without {soft} slots is scored on dev; the best one's test accuracy
  5-shot      the default template with 5 stratified demos
  methods     `ptune tune` (20 virtual tokens, batch 8, 60 steps, 5 warmup steps, linear decay,
              dev accuracy every 20 steps, best step kept), then `ptune eval --adapter` on test
Prints the commands it runs on stderr and a Markdown table on stdout. Run directories go to
runs/results-<task>-<setting>/. Needs the build (scripts/setup); takes about 25 minutes on 2 cores.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PTUNE = os.path.join(ROOT, "build", "ptune")
METHODS = {  # key: (label, ptune tune arguments)
    "prompt-tuning": ("prompt tuning", ["--method", "prompt-tuning", "--lr", "0.03"]),
    "p-tuning": ("P-tuning (MLP encoder)", ["--method", "p-tuning", "--lr", "0.003"]),
    "prefix-tuning": ("prefix tuning", ["--method", "prefix-tuning", "--lr", "0.03"]),
    "prefix-projection": ("prefix tuning, MLP reparameterisation",
                          ["--method", "prefix-tuning", "--prefix-projection", "--lr", "0.0003"]),
}


def run(args):
    print("$ ptune " + " ".join(args), file=sys.stderr, flush=True)
    return subprocess.run([PTUNE] + args, check=True, stdout=subprocess.PIPE, text=True).stdout


def evaluate(task, split, threads, extra=()):
    out = run(["eval", "--task", task, "--split", split, "--threads", str(threads), "--json",
               "--progress", "off"] + list(extra))
    return json.loads(out)["metrics"]["accuracy"]


def cell(acc):
    return f"{acc['value']:.3f} [{acc['low']:.3f}, {acc['high']:.3f}]"


def baselines(name, task, threads):
    """Rows for the best zero-shot template (chosen on dev) and for 5-shot."""
    spec = json.load(open(task))
    templates = ["default"] + [t for t, src in spec.get("templates", {}).items() if "{soft" not in src]
    dev = {t: evaluate(task, "dev", threads, ["--template", t, "--shots", "0"])["value"]
           for t in templates}
    best = max(templates, key=lambda t: dev[t])
    zero = evaluate(task, "test", threads, ["--template", best, "--shots", "0"])
    print(f"| {name} | zero-shot, best template on dev ('{best}') | {cell(zero)} | - |", flush=True)
    five = evaluate(task, "test", threads, ["--shots", "5"])
    print(f"| {name} | 5-shot | {cell(five)} | - |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", nargs="+", default=["sentiment", "support-intent"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--no-baselines", action="store_true", help="skip the zero-shot and 5-shot rows")
    args = ap.parse_args()
    print("| task | setting | test accuracy [95% CI] | training |")
    print("|---|---|---|---|")
    for name in args.tasks:
        task = os.path.join(ROOT, "examples", name, "task.json")
        if not args.no_baselines:
            baselines(name, task, args.threads)
        for key in args.methods:
            label, method_args = METHODS[key]
            out = os.path.join(ROOT, "runs", f"results-{name}-{key}")
            run(["tune", "--task", task, "-o", out, "--force", "--max-steps", str(args.steps), "--eval-every",
                 "20", "--virtual-tokens", "20", "--warmup-steps", "5", "--threads",
                 str(args.threads), "--progress", "off"] + method_args)
            rec = json.load(open(os.path.join(out, "ptune_train.json")))
            acc = evaluate(task, "test", args.threads, ["--adapter", out])
            print(f"| {name} | {label} | {cell(acc)} | {rec['steps']} steps, {rec['seconds']:.0f} s "
                  f"({rec['train_examples_per_s']:.1f} train ex/s), peak RSS {rec['peak_rss_mb']} MiB, "
                  f"best dev step {rec['best_step']} |", flush=True)


if __name__ == "__main__":
    main()
