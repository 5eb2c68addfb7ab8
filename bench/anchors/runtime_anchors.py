#!/usr/bin/env python3
"""Runtime anchors for bench/runtime_bench: the same GGUF through llama.cpp and transformers.

Prints ONE JSON object on stdout (progress goes to stderr):
  {"threads": T, "model": ..., "prefill_shape": [8, 128], "decode_new_tokens": 128, "repeats": R,
   "llama_cpp":    {"prefill_tps", "prefill_sequential_tps", "decode_tps", "version", "how"} | {"error"},
   "transformers": {"prefill_tps", "decode_tps", "version", "torch_version", "how"}       | {"error"}}

Workloads (the same as runtime_bench.cpp measures for ptune):
  prefill: 8 sequences x 128 random token ids (fixed seed), logits only at the last position of
           each sequence; tokens/s = 1024 / time of one pass.
  decode:  batch 1, a short prompt, then 128 greedy steps each feeding the previous argmax with
           the KV cache; tokens/s = 128 / time of the 128 steps (prompt processing excluded).
  One warmup run first, then the median of --repeats runs.

llama.cpp (llama-cpp-python, runs the GGUF's Q4_1 weights natively with ggml kernels):
  prefill: one llama_decode of a 1024-token llama_batch holding the 8 sequences (seq ids 0..7,
           positions 0..127, logits requested for each last token) in a context with
           n_seq_max=8, n_ctx=n_batch=1024 (n_ubatch 512, llama.cpp's default), i.e. it is
           processed as prompt processing, like llama-server with 8 parallel slots. KV memory is
           cleared before each run. "prefill_sequential_tps" is the high-level Llama.eval of the 8
           sequences one after another (128-token batches), for reference.
  decode:  Llama.eval(prompt), then 128 x (argmax of llama_get_logits_ith(-1), Llama.eval([tok])).
transformers (fp32, dequantized GGUF, eval mode, torch.inference_mode):
  prefill: one forward of the [8, 128] batch with logits_to_keep=1 (last position only, as ptune
           does; the full-vocab logits at all positions would add 2*C*V FLOPs per token).
  decode:  manual greedy loop with the DynamicCache, logits_to_keep=1.

Missing packages or failures give that engine {"error": "..."} instead of a crash.
Usage: bench/anchors/runtime_anchors.py --threads 2 [--model PATH] [--repeats 3]
"""
import argparse
import json
import os
import statistics
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BATCH, SEQ, NEW_TOKENS = 8, 128, 128
PROMPT_IDS = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2]  # short ChatML-ish prompt


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def median_time(fn, repeats):
    fn()  # warmup
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def random_ids(vocab, seed=1234):
    import numpy as np
    rng = np.random.default_rng(seed)
    return rng.integers(3, vocab, size=(BATCH, SEQ)).tolist()  # skip the special ids 0..2


def bench_llama_cpp(model, threads, repeats):
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=model, n_ctx=512, n_batch=512, n_threads=threads, n_threads_batch=threads,
                logits_all=False, verbose=False)
    vocab = llm.n_vocab()
    seqs = random_ids(vocab)

    # --- prefill, batched: one 1024-token llama_batch with 8 sequences.
    cp = llama_cpp.llama_context_default_params()
    cp.n_ctx = BATCH * SEQ
    cp.n_batch = BATCH * SEQ
    cp.n_seq_max = BATCH
    cp.n_threads = threads
    cp.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(llm._model.model, cp)
    if not ctx:
        raise RuntimeError("llama_init_from_model failed")
    mem = llama_cpp.llama_get_memory(ctx)
    batch = llama_cpp.llama_batch_init(BATCH * SEQ, 0, 1)
    try:
        i = 0
        for s, seq in enumerate(seqs):
            for p, tok in enumerate(seq):
                batch.token[i] = tok
                batch.pos[i] = p
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = s
                batch.logits[i] = p == SEQ - 1
                i += 1
        batch.n_tokens = i

        def prefill():
            llama_cpp.llama_memory_clear(mem, True)
            rc = llama_cpp.llama_decode(ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode returned {rc}")
            llama_cpp.llama_synchronize(ctx)

        t_pre, _ = median_time(prefill, repeats)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)

    # --- prefill, sequential through the high-level API (for reference).
    def prefill_seq():
        for seq in seqs:
            llm.reset()
            llm.eval(seq)

    t_seq, _ = median_time(prefill_seq, repeats)

    # --- decode: greedy, batch 1.
    n_vocab = vocab

    def decode():
        llm.reset()
        llm.eval(PROMPT_IDS)
        t0 = time.perf_counter()
        for _ in range(NEW_TOKENS):
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(n_vocab,))
            llm.eval([int(logits.argmax())])
        return time.perf_counter() - t0

    decode()  # warmup
    t_dec = statistics.median(decode() for _ in range(repeats))
    return {
        "prefill_tps": BATCH * SEQ / t_pre,
        "prefill_sequential_tps": BATCH * SEQ / t_seq,
        "decode_tps": NEW_TOKENS / t_dec,
        "version": llama_cpp.__version__,
        "how": "prefill: one llama_decode of a 1024-token batch (8 seq ids, n_seq_max 8, n_ubatch 512); "
               "decode: Llama.eval one token at a time, argmax of the last logits",
    }


def bench_transformers(model, threads, repeats):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    d, f = os.path.split(os.path.abspath(model))
    m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    m.eval()
    ids = torch.tensor(random_ids(m.config.vocab_size))

    def prefill():
        with torch.inference_mode():
            m(input_ids=ids, use_cache=False, logits_to_keep=1)

    t_pre, _ = median_time(prefill, repeats)

    def decode():
        with torch.inference_mode():
            out = m(input_ids=torch.tensor([PROMPT_IDS]), use_cache=True, logits_to_keep=1)
            t0 = time.perf_counter()
            for _ in range(NEW_TOKENS):
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                out = m(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True, logits_to_keep=1)
            return time.perf_counter() - t0

    decode()  # warmup
    t_dec = statistics.median(decode() for _ in range(repeats))
    return {
        "prefill_tps": BATCH * SEQ / t_pre,
        "decode_tps": NEW_TOKENS / t_dec,
        "version": transformers.__version__,
        "torch_version": torch.__version__,
        "how": "fp32 dequantized GGUF, sdpa attention, logits_to_keep=1; decode: manual greedy loop with KV cache",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=["llama_cpp", "transformers"], help="run one engine only")
    args = ap.parse_args()

    res = {"threads": args.threads, "model": os.path.basename(args.model), "prefill_shape": [BATCH, SEQ],
           "decode_new_tokens": NEW_TOKENS, "decode_prompt_tokens": len(PROMPT_IDS), "repeats": args.repeats}
    for name, fn in (("llama_cpp", bench_llama_cpp), ("transformers", bench_transformers)):
        if args.only and args.only != name:
            continue
        log(f"runtime_anchors: {name} ...")
        try:
            res[name] = fn(args.model, args.threads, args.repeats)
        except Exception as e:  # missing package, API drift, load failure: report, do not crash
            res[name] = {"error": f"{type(e).__name__}: {e}"}
        log(f"runtime_anchors: {name}: {res[name]}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
