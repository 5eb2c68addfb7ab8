#!/usr/bin/env python3
"""Writes the PEFT artifact fixtures used by tests/io and the safetensors fuzz seeds.

Run with the reference venv (it has peft, transformers, torch, safetensors):
    /opt/ptune-ref/bin/python scripts/reference/make_peft_fixtures.py

The base model is a tiny random Llama made here (hidden 32, 2 layers, 4 heads, 2 key/value heads,
vocab 64), so nothing is downloaded. Outputs (all small, committed):
  tests/data/peft/<method>/adapter_config.json
  tests/data/peft/<method>/adapter_model.safetensors   written by PEFT's save_pretrained
  tests/data/peft/<method>/expected.json                what the tests check: the tensor's name,
        shape, its first values and sum, and the model dims PEFT derived the config from.
    methods: prompt_tuning (RANDOM init, 4 tokens), p_tuning (MLP encoder, 3 tokens),
             prefix_tuning (no projection, 3 tokens; grouped-query attention so token_dim is
             head_dim * num_key_value_heads = 16), prefix_projection (projection on, 2 tokens).
  tests/data/peft/dtypes.safetensors + dtypes.json      one tensor per dtype we read (F64, F32,
        F16, BF16, I64, I32, I16, I8, U8, BOOL), plus a scalar and an empty tensor, written by
        safetensors.torch.save_file; the JSON holds every value as float.
  fuzz/corpus/safetensors/*.safetensors                 seeds: copies of the files above.

After writing, every adapter is loaded back with PeftModel.from_pretrained and its prompt
compared with the saved tensor, so the fixtures are known to load in PEFT.
"""
import json
import shutil
from pathlib import Path

import torch
from peft import (PeftModel, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig,
                  get_peft_model)
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "peft"
CORPUS = ROOT / "fuzz" / "corpus" / "safetensors"

DIMS = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2)


def base_model():
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**DIMS, max_position_embeddings=64)).eval()
    return model


METHODS = {
    "prompt_tuning": lambda: PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4),
    "p_tuning": lambda: PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=3,
                                            encoder_hidden_size=16),
    "prefix_tuning": lambda: PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3),
    "prefix_projection": lambda: PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=2,
                                                    prefix_projection=True,
                                                    encoder_hidden_size=8),
}


def make_adapter(name, make_config, seed):
    out = DATA / name
    shutil.rmtree(out, ignore_errors=True)
    torch.manual_seed(seed)
    model = get_peft_model(base_model(), make_config())
    model.save_pretrained(str(out))
    (out / "README.md").unlink()  # the model card: 5 KB we do not use
    from safetensors.torch import load_file
    tensors = load_file(str(out / "adapter_model.safetensors"))
    assert list(tensors) == ["prompt_embeddings"], list(tensors)
    t = tensors["prompt_embeddings"]
    flat = t.flatten().tolist()
    expected = {
        "model_dims": DIMS,
        "tensor": "prompt_embeddings",
        "dtype": "F32",
        "shape": list(t.shape),
        "first": flat[:8],
        "last": flat[-1],
        "sum": float(t.double().sum()),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")

    # PEFT loads what it saved, and the prompt it rebuilds is the saved tensor.
    loaded = PeftModel.from_pretrained(base_model(), str(out))
    # In inference mode PEFT drops the encoder and loads the saved output into the embedding.
    got = loaded.prompt_encoder["default"].embedding.weight.detach()
    assert torch.allclose(got, t, atol=1e-6), f"{name}: PEFT reloads a different prompt"
    print(f"{name}: {list(t.shape)}")
    return out / "adapter_model.safetensors"


def make_dtypes():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(2, 3, generator=g) * 4
    tensors = {
        "f64": base.double(),
        "f32": base.float(),
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "i64": torch.tensor([[-(2**40), 7]], dtype=torch.int64),
        "i32": torch.tensor([-70000, 3, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([[-128], [127]], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    path = DATA / "dtypes.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt", "source": "make_peft_fixtures"})
    expected = {k: {"shape": list(v.shape), "values": v.double().flatten().tolist()}
                for k, v in tensors.items()}
    (DATA / "dtypes.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    return path


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    CORPUS.mkdir(parents=True, exist_ok=True)
    seeds = [make_adapter(name, make, seed) for seed, (name, make) in enumerate(METHODS.items())]
    seeds.append(make_dtypes())
    for p in seeds:
        dest = CORPUS / (p.parent.name + ".safetensors" if p.parent != DATA else p.name)
        shutil.copyfile(p, dest)
    total = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    print(f"tests/data/peft: {total} bytes")


if __name__ == "__main__":
    main()
