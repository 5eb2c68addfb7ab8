#!/usr/bin/env python3
"""Golden values for tests/tasks/metrics_test.cpp from the reference Python packages.

Run: /opt/ptune-ref/bin/python tests/data/tasks/metrics_golden.py
(sacrebleu 2.6.0, rouge-score 0.1.2, numpy; `pip install sacrebleu rouge-score` into that venv).
The C++ tests hard-code the printed numbers; rerun this when a case changes.
"""
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from rouge_score import rouge_scorer

HYPS = [
    "The cat sat on the mat.",
    "Your refund was issued on 3-4 May, it should arrive in 5 days!",
    "We are sorry about the delay.",
    "Please reset your password using the link.",
]
REFS = [
    ["The cat is sitting on the mat."],
    ["We issued your refund on 3-4 May; expect it within 5 business days."],
    ["Sorry for the delay with your order.", "We apologise for the delay."],
    ["You can reset the password with the link we sent."],
]
# sacrebleu wants refs as streams: one list per reference position (pad with None).
max_refs = max(len(r) for r in REFS)
streams = [[r[i] if i < len(r) else None for r in REFS] for i in range(max_refs)]

print("tokenize_13a:", repr(Tokenizer13a()(
    "Hello, world. It's 3.5-4 items (x) & \"y\" -- ok?")))
for smooth in ["exp", "none", "floor", "add-k"]:
    b = sacrebleu.corpus_bleu(HYPS, streams, smooth_method=smooth)
    print(f"bleu[{smooth}]: {b.score:.10f} bp={b.bp:.10f} sys={b.sys_len} ref={b.ref_len}")
# No 3- or 4-gram matches: the smoothing methods differ here.
for smooth in ["exp", "none", "floor", "add-k"]:
    b = sacrebleu.corpus_bleu(["the dog barked at the mailman today"],
                              [["the dog growled at the postman today"]], smooth_method=smooth)
    print(f"bleu_sparse[{smooth}]: {b.score:.10f}")
b = sacrebleu.corpus_bleu(["the the the the"], [["the cat sat on the mat"]])
print(f"bleu[clip]: {b.score:.10f}")
c = sacrebleu.corpus_chrf(HYPS, streams)
print(f"chrf: {c.score:.10f}")
c = sacrebleu.corpus_chrf(["café crème brûlée"], [["crème brûlée au café"]])
print(f"chrf[utf8]: {c.score:.10f}")

scorer = rouge_scorer.RougeScorer(["rougeL"])
for h, refs in zip(HYPS, REFS):
    best = max(scorer.score(r, h)["rougeL"].fmeasure for r in refs)
    print(f"rougeL: {best:.10f}")
