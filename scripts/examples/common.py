"""Shared helpers for the example-data generators (scripts/examples/make_<name>.py).

Every generator is seeded, builds sentences from hand-written fragments, removes duplicates and
writes train/dev/test JSONL into examples/<name>/. Rerunning a generator rewrites identical files.
"""
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_splits(name, rows, fractions=(0.6, 0.2, 0.2), seed=0, stratify=None):
    """Shuffles rows (stratified by the `stratify` key when given) and writes the three splits."""
    rng = random.Random(seed)
    groups = {}
    for r in rows:
        groups.setdefault(r[stratify] if stratify else "", []).append(r)
    splits = {"train": [], "dev": [], "test": []}
    for key in sorted(groups):
        g = groups[key]
        rng.shuffle(g)
        a = round(len(g) * fractions[0])
        b = round(len(g) * (fractions[0] + fractions[1]))
        splits["train"] += g[:a]
        splits["dev"] += g[a:b]
        splits["test"] += g[b:]
    out_dir = os.path.join(ROOT, "examples", name)
    os.makedirs(out_dir, exist_ok=True)
    for split, items in splits.items():
        rng.shuffle(items)
        with open(os.path.join(out_dir, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for r in items:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(name, {k: len(v) for k, v in splits.items()})


def unique(rows, key):
    """Drops rows whose `key` text repeats (case-insensitive), keeping the first."""
    seen, out = set(), []
    for r in rows:
        k = r[key].lower()
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def cap(s):
    return s[0].upper() + s[1:] if s else s
