"""The serving anchor a user has today without ptune: transformers + PEFT, one request at a time,
the adapter chosen per request (serve_bench's (d) row).

The same GGUF loaded by transformers (fp32), the seven PEFT-format adapters of tests/data each
wrapped by PeftModel.from_pretrained around the one base model (prompt learning leaves the base
untouched, so the wrappers share it), and `--requests` requests in turn, adapter k % 7, greedy
`generate` with `max_new_tokens`. Prints one JSON line: tokens, wall_s, tok_s, ttft_p50 (the
time of a 1-token generate of the same request, as PEFT has no streaming).

    python bench/anchors/peft_switch_loop.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADAPTERS = ["peft_smollm2/prompt_tuning", "peft_smollm2/p_tuning", "peft_smollm2/prefix_tuning",
            "ptune_smollm2/p_tuning_lstm", "ptune_smollm2/p_tuning_mlp",
            "ptune_smollm2/prefix_tuning", "ptune_smollm2/prefix_tuning_projection"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    model_dir, model_file = os.path.split(os.path.abspath(args.model))
    tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=model_file)
    base = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=model_file,
                                                dtype=torch.float32).eval()
    wrapped = [PeftModel.from_pretrained(base, os.path.join(ROOT, "tests", "data", a)).eval()
               for a in ADAPTERS]

    def request(k):
        return ("Request %d: write a long, friendly reply to a customer whose card payment was "
                "declined twice today." % k)

    tokens = 0
    ttft = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for k in range(args.requests):
            m = wrapped[k % len(wrapped)]
            enc = tok(request(k), return_tensors="pt")
            s = time.perf_counter()
            m.generate(**enc, max_new_tokens=1, do_sample=False)
            ttft.append(time.perf_counter() - s)
            out = m.generate(**enc, max_new_tokens=args.max_tokens, do_sample=False)
            tokens += out.shape[1] - enc["input_ids"].shape[1]
    # The 1-token probes are not part of the throughput.
    wall = time.perf_counter() - t0 - sum(ttft)
    print(json.dumps({"tokens": tokens, "wall_s": wall, "tok_s": tokens / wall,
                      "ttft_p50": statistics.median(ttft)}))


if __name__ == "__main__":
    sys.exit(main())
