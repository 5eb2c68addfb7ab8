#!/usr/bin/env python3
"""PEFT prompt tuning on the same GGUF, data and hyperparameters as `ptune tune` (bench/tune_bench).

Prints ONE JSON line on stdout (progress goes to stderr):
  {"steps", "batch_size", "virtual_tokens", "train_seconds", "train_examples_per_s",
   "dev_accuracy", "dev_accuracy_before", "dev_examples", "final_loss", "peak_rss_mb",
   "load_seconds", "seconds", "torch", "transformers", "peft", "threads", "init"}

What it does, the way a PEFT user writes it:
  base model  transformers AutoModelForCausalLM.from_pretrained(dir, gguf_file=name,
              dtype=float32): the GGUF dequantized to fp32, eval mode, every weight frozen.
  data        the task file's train/dev JSONL; each prompt rendered like ptune's default template
              ("{instruction}\n\n{demos}Review: {text}\nSentiment:" with {demos} empty, 0-shot),
              tokenized with the GGUF's tokenizer without special tokens (SmolLM2's GGUF asks for
              no BOS, so ptune adds none either). The target is label_prefix + the label's first
              verbalizer word (" positive" / " negative").
  adapter     PromptTuningConfig(CAUSAL_LM, num_virtual_tokens, prompt_tuning_init=SAMPLE_VOCAB),
              get_peft_model.
  training    torch.optim.AdamW(lr, betas (0.9, 0.999), eps 1e-8, weight_decay 0: ptune's
              AdamWOptions), get_linear_schedule_with_warmup(0 warmup), clip_grad_norm_ 1.0;
              batches of --batch-size from a seeded shuffle of the train set per epoch (last partial
              batch kept, like ptune); input = prompt ids + target ids, right padding with the pad
              token (eos when none), attention mask; labels -100 on the prompt and the padding;
              HF's built-in loss, i.e. full-vocabulary cross-entropy on the target tokens.
  timing      train_seconds covers only the steps (padding the batch, forward, backward, clipping,
              AdamW, scheduler), as ptune's train_seconds;
              train_examples_per_s = steps * batch_size / train_seconds.
  dev         accuracy as ptune measures it: logits at the last prompt position (after the
              virtual tokens), argmax over the labels' first tokens; torch.no_grad, batched.
  peak_rss_mb resource.getrusage(RUSAGE_SELF).ru_maxrss / 1024 (includes the model load).

Usage: peft_tune.py --model GGUF --task TASK.json [--threads 2] [--steps 60] [--batch-size 8]
                    [--virtual-tokens 20] [--lr 0.03] [--seed 42] [--dev-limit 0]
"""
import argparse
import json
import os
import random
import resource
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_task(task_path, dev_limit):
    """(train, dev, label_names, label_words): examples as (prompt text, label index)."""
    with open(task_path, encoding="utf-8") as f:
        task = json.load(f)
    if task.get("type", "classification") != "classification":
        raise SystemExit("peft_tune: only classification tasks")
    base = os.path.dirname(os.path.abspath(task_path))
    data = task["data"]
    fields = data.get("fields", {})
    text_key, label_key = fields.get("text", "text"), fields.get("label", "label")
    labels = task["labels"]  # {label: [verbalizer words]}; ptune scores a label by its first word
    names = list(labels.keys())
    prefix = task.get("scoring", {}).get("label_prefix", " ")
    # A label maps to one verbalizer word or a list of them (the first is scored).
    words = [prefix + (labels[n] if isinstance(labels[n], str) else labels[n][0]) for n in names]
    template = task["template"]

    def render(rec):
        out = template.replace("{instruction}", task.get("instruction", "")).replace("{demos}", "")
        out = out.replace("{text}", str(rec[text_key]))
        for k, v in rec.items():  # any other field the template names
            out = out.replace("{" + k + "}", str(v))
        return out

    def split(name, limit=0):
        recs = read_jsonl(os.path.join(base, data[name]))
        if limit:
            recs = recs[:limit]
        return [(render(r), names.index(str(r[label_key]))) for r in recs]

    return split("train"), split("dev", dev_limit), names, words


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--task", default=os.path.join(REPO, "examples", "sentiment", "task.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--virtual-tokens", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dev-limit", type=int, default=0)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    args = ap.parse_args()
    t_start = time.perf_counter()

    import torch
    import peft
    import transformers
    from peft import PromptTuningConfig, PromptTuningInit, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_linear_schedule_with_warmup

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_file)
    base = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file, dtype=torch.float32)
    base.eval()
    for p in base.parameters():
        p.requires_grad_(False)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    pad_id = tok.pad_token_id

    config = PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=args.virtual_tokens,
                                prompt_tuning_init=PromptTuningInit.SAMPLE_VOCAB)
    model = get_peft_model(base, config)
    model.eval()  # no dropout in this model; eval keeps the base exactly frozen
    load_seconds = time.perf_counter() - t0

    train, dev, names, words = load_task(args.task, args.dev_limit)
    enc = lambda s: tok(s, add_special_tokens=False).input_ids
    word_ids = [enc(w) for w in words]
    first = [w[0] for w in word_ids]
    if len(set(first)) != len(first):
        raise SystemExit("peft_tune: two labels start with the same token")
    train_ids = [(enc(p), word_ids[y]) for p, y in train]
    dev_ids = [(enc(p), y) for p, y in dev]
    log(f"peft_tune: {len(train)} train, {len(dev)} dev examples; label tokens {first}; "
        f"load {load_seconds:.1f} s")

    def dev_accuracy(batch=8):
        correct = 0
        with torch.no_grad():
            for s in range(0, len(dev_ids), batch):
                chunk = dev_ids[s:s + batch]
                T = max(len(p) for p, _ in chunk)
                ids = torch.full((len(chunk), T), pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), T), dtype=torch.long)
                for r, (p, _) in enumerate(chunk):
                    ids[r, :len(p)] = torch.tensor(p)
                    mask[r, :len(p)] = 1
                logits = model(input_ids=ids, attention_mask=mask).logits  # [B, N + T, V]
                n_virtual = logits.shape[1] - T
                last = torch.tensor([n_virtual + len(p) - 1 for p, _ in chunk])
                scores = logits[torch.arange(len(chunk)), last][:, first]
                pred = scores.argmax(-1).tolist()
                correct += sum(int(pr == y) for pr, (_, y) in zip(pred, chunk))
        return correct / max(1, len(dev_ids))

    acc_before = dev_accuracy()
    log(f"peft_tune: dev accuracy before {acc_before:.4f}")

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=0, num_training_steps=args.steps)

    n = len(train_ids)
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    order, order_epoch = None, -1
    train_seconds, loss_value, examples = 0.0, float("nan"), 0
    for step in range(args.steps):
        epoch = step // steps_per_epoch
        if epoch != order_epoch:
            order = list(range(n))
            random.Random(args.seed * 1000003 + epoch).shuffle(order)
            order_epoch = epoch
        b = step % steps_per_epoch
        idx = order[b * args.batch_size:(b + 1) * args.batch_size]
        # Timed like ptune's step: padding the batch, forward, backward, clipping, AdamW (the
        # tokens were prepared once beforehand, as a Dataset.map would, and so were ptune's).
        t0 = time.perf_counter()
        seqs = [train_ids[i][0] + train_ids[i][1] for i in idx]
        T = max(len(s) for s in seqs)
        ids = torch.full((len(idx), T), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), T), dtype=torch.long)
        labels = torch.full((len(idx), T), -100, dtype=torch.long)
        for r, i in enumerate(idx):
            p, t = train_ids[i]
            ids[r, :len(p) + len(t)] = torch.tensor(p + t)
            mask[r, :len(p) + len(t)] = 1
            labels[r, len(p):len(p) + len(t)] = torch.tensor(t)
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        train_seconds += time.perf_counter() - t0
        loss_value = float(out.loss.detach())
        examples += len(idx)
        if (step + 1) % 10 == 0 or step + 1 == args.steps:
            log(f"peft_tune: step {step + 1}/{args.steps} loss {loss_value:.4f} "
                f"({train_seconds:.1f} s in steps)")

    acc = dev_accuracy()
    log(f"peft_tune: dev accuracy after {acc:.4f}")
    print(json.dumps({
        "steps": args.steps,
        "batch_size": args.batch_size,
        "virtual_tokens": args.virtual_tokens,
        "train_seconds": train_seconds,
        "train_examples_per_s": examples / train_seconds if train_seconds > 0 else 0.0,
        "dev_accuracy": acc,
        "dev_accuracy_before": acc_before,
        "dev_examples": len(dev_ids),
        "final_loss": loss_value,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "load_seconds": load_seconds,
        "seconds": time.perf_counter() - t_start,
        "threads": torch.get_num_threads(),
        "init": "SAMPLE_VOCAB",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
