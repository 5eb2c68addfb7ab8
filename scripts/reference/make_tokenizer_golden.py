#!/usr/bin/env python3
"""Writes tests/data/tokenizer/smollm2_ids.jsonl: Hugging Face token ids for every corpus line.

The reference is transformers' tokenizer built from the same GGUF
(`from_pretrained(models_dir, gguf_file=...)`), with one correction: transformers has no entry
for tokenizer.ggml.pre = "smollm" and falls back to the plain GPT-2 split, while SmolLM2's own
tokenizer.json (and llama.cpp's "smollm") first isolates every digit (Digits(individual_digits)).
The difference shows on whitespace before digits ("  1" is [ĠĠ, 1] in SmolLM2, [Ġ, Ġ, 1]
without the digit split), so the script restores the model's real pre-tokenizer and reports how
many lines the stock loader would get wrong.

Line i of the output matches line i of corpus.jsonl:
  {"ids": [...]}                      encode(text) (add_special_tokens=True; SmolLM2 adds nothing)
  "ids_no_special": [...]             only when add_special_tokens=False differs
  "ids_split_special": [...]          only for lines holding special-token text: special tokens
                                      not parsed (HF encode_special_tokens=True)

    /opt/ptune-ref/bin/python scripts/reference/make_tokenizer_golden.py
"""

import argparse
import importlib.machinery
import json
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stub_torch_if_broken():
    """The tokenizer needs no torch, but transformers' GGUF reader imports it at module level.
    When the installed torch cannot load (e.g. a CUDA build without its libraries), give the
    reader a placeholder module instead; no tensor is ever read here."""
    import transformers  # noqa: F401  (decides torch availability before the stub exists)

    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    for name in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
        del sys.modules[name]

    class Anything:
        def __getattr__(self, name):
            return Anything()

        def __call__(self, *args, **kwargs):
            return Anything()

        def __getitem__(self, key):
            return Anything()

    class TorchStub(types.ModuleType):
        def __getattr__(self, name):
            return Anything()

    stub = TorchStub("torch")
    stub.__spec__ = importlib.machinery.ModuleSpec("torch", None)
    sys.modules["torch"] = stub
    print("note: torch does not import here; using a placeholder for the GGUF metadata reader")


def load_reference(models_dir, gguf_file):
    stub_torch_if_broken()
    from tokenizers import pre_tokenizers
    from transformers.models.llama.tokenization_llama import LlamaTokenizer

    # AutoTokenizer resolves a llama-architecture GGUF to LlamaTokenizer; importing it directly
    # skips AutoConfig, which needs a working torch.
    tok = LlamaTokenizer.from_pretrained(models_dir, gguf_file=gguf_file)
    stock = LlamaTokenizer.from_pretrained(models_dir, gguf_file=gguf_file)
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    return tok, stock


def check_against_gguf(tok, gguf_path):
    """The reference must describe the same vocabulary the GGUF stores."""
    from gguf import GGUFReader

    r = GGUFReader(gguf_path)
    field = lambda k: r.fields[k].contents()  # noqa: E731
    assert field("tokenizer.ggml.model") == "gpt2"
    assert field("tokenizer.ggml.pre") == "smollm", field("tokenizer.ggml.pre")
    tokens = field("tokenizer.ggml.tokens")
    vocab = tok.get_vocab()
    assert len(vocab) == len(tokens), (len(vocab), len(tokens))
    bad = [i for i, t in enumerate(tokens) if vocab.get(t) != i]
    assert not bad, f"token ids differ from the GGUF, first: {bad[:5]}"
    assert field("tokenizer.ggml.add_bos_token") is False
    added = {t.content: t for t in tok.backend_tokenizer.get_added_tokens_decoder().values()}
    for t in added.values():
        assert not (t.lstrip or t.rstrip or t.single_word), f"{t.content} strips whitespace"
    print(f"vocab {len(tokens)}, {len(field('tokenizer.ggml.merges'))} merges, "
          f"{len(added)} added tokens, none strip whitespace; ids match the GGUF")
    return sorted(added)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=str(ROOT / "models"))
    ap.add_argument("--gguf-file", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--corpus", default=str(ROOT / "tests/data/tokenizer/corpus.jsonl"))
    ap.add_argument("--out", default=str(ROOT / "tests/data/tokenizer/smollm2_ids.jsonl"))
    args = ap.parse_args()

    tok, stock = load_reference(args.models_dir, args.gguf_file)
    specials = check_against_gguf(tok, str(Path(args.models_dir) / args.gguf_file))
    texts = [json.loads(line)["text"] for line in open(args.corpus, encoding="utf-8")]

    backend = tok.backend_tokenizer
    stock_differs = 0
    n_split = 0
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for text in texts:
            ids = tok.encode(text)
            rec = {"ids": ids}
            no_special = tok.encode(text, add_special_tokens=False)
            if no_special != ids:
                rec["ids_no_special"] = no_special
            if any(s in text for s in specials):
                backend.encode_special_tokens = True
                rec["ids_split_special"] = backend.encode(text, add_special_tokens=False).ids
                backend.encode_special_tokens = False
                n_split += 1
            stock_differs += stock.encode(text) != ids
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    print(f"wrote {len(texts)} lines to {args.out} ({n_split} with split-special ids)")
    print(f"stock transformers GGUF tokenizer (no digit split) differs on {stock_differs} lines")


if __name__ == "__main__":
    main()
