"""DSPy anchor for `ptune search` (issue 11 item 8): DSPy's MIPROv2 (auto="light") optimizing the
same classification task against the same model, SmolLM2-135M-Instruct served by `ptune serve`.

Reads the exact splits a `ptune search -o OUT` run used (OUT/splits/{search,dev,test}.jsonl, one
{"text", "label"} object a line), builds dspy.Predict over the signature `text -> label` with
label typed Literal[<the label names found in the splits>] (str plus a list of the names in the
field's description if Literal cannot be built), metric = exact label match, and measures:
  1. baseline: test accuracy of the uncompiled program (the --instruction, or DSPy's default);
  2. optimization: MIPROv2(metric, auto, num_threads, seed).compile(program, trainset=search,
     valset=dev), its wall time and model calls split by MIPROv2's stages (bootstrap few-shot
     demos, propose instructions, Bayesian search over instruction x demo set);
  3. compiled: test accuracy of the program MIPROv2 returns.
Test accuracies come with a 95% bootstrap CI (1000 resamples of the test examples, seed 0,
percentile). Model calls are counted by a DSPy callback (one per dspy.LM call; HTTP retries that
litellm/lm15 make inside a call are not seen). A prediction that fails (the adapter cannot parse
the reply, or the request fails) counts as wrong and is tallied, never raised; if MIPROv2 itself
fails, the error, its type and the stage reached are recorded and the JSON is still written.

The task model runs at temperature 0 with max_tokens --max-tokens; MIPROv2's prompt model (the
proposer) is the same served model with --prompt-max-tokens and the temperatures MIPROv2 sets
itself (1.0 for proposals and data summaries). DSPy's response cache is off. --max-errors is
passed to MIPROv2 (default: effectively unlimited, so failed predictions score 0 instead of
stopping MIPROv2 after DSPy's default of 10). DSPy's ChatAdapter is used with its default
JSONAdapter fallback (an unparsable reply is asked again in JSON form, one more model call; for an
"openai/<id>" model DSPy sends no response_format, which `ptune serve` would refuse);
--no-json-fallback turns it off.

Starts `ptune serve --port 0 --model-id MODEL_ID` itself, or uses --api-base (then starts none).
Prints a summary table; writes everything to --out.

    .venv-ref/bin/python bench/anchors/dspy_mipro.py build/ptune --splits OUT/splits \\
        --instruction "Classify the sentiment of the review." --threads 8 --auto light --seed 0 \\
        --out dspy_mipro.json
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAGES = [("bootstrap", "_bootstrap_fewshot_examples"), ("propose", "_propose_instructions"),
          ("search", "_optimize_prompt_parameters")]


def start_server(ptune, model_id, extra, log_path):
    proc = subprocess.Popen([ptune, "serve", "--port", "0", "--model-id", model_id] + extra,
                            stderr=subprocess.PIPE, text=True)
    tail = collections.deque(maxlen=40)
    port = None
    for line in proc.stderr:
        tail.append(line)
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        proc.wait()
        raise RuntimeError("ptune serve did not start (exit %s):\n%s" % (proc.returncode, "".join(tail)))
    log = open(log_path, "a") if log_path else None

    def drain():  # the server logs to stderr; a full pipe would stall it
        for line in proc.stderr:
            tail.append(line)
            if log:
                log.write(line)
                log.flush()
    threading.Thread(target=drain, daemon=True).start()
    return proc, port, tail


def load_split(path):
    import dspy
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [dspy.Example(text=r["text"], label=r["label"]).with_inputs("text") for r in rows]


def percentile(sorted_xs, q):  # linear interpolation, numpy's default
    pos = (len(sorted_xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def bootstrap_ci(correct, resamples=1000, seed=0):
    import random
    if not correct:
        return [None, None]
    rng = random.Random(seed)
    n = len(correct)
    accs = sorted(sum(correct[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return [percentile(accs, 0.025), percentile(accs, 0.975)]


def is_parse_error(e):
    from dspy.utils.exceptions import AdapterParseError
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, AdapterParseError):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def make_counter():
    from dspy.utils.callback import BaseCallback

    class CallCounter(BaseCallback):
        """Model calls, failed calls and failed parses, per phase (phases run one at a time)."""

        def __init__(self):
            self.lock = threading.Lock()
            self.phase = "setup"
            self.stats = {}
            self.adapter_of = {}

        def _s(self):
            return self.stats.setdefault(self.phase, {"lm_calls": 0, "lm_errors": {},
                                                      "parse_failures": {}})

        def on_lm_start(self, call_id, instance, inputs):
            with self.lock:
                self._s()["lm_calls"] += 1

        def on_lm_end(self, call_id, outputs, exception=None):
            if exception is not None:
                with self.lock:
                    d = self._s()["lm_errors"]
                    d[type(exception).__name__] = d.get(type(exception).__name__, 0) + 1

        def on_adapter_parse_start(self, call_id, instance, inputs):
            with self.lock:
                self.adapter_of[call_id] = type(instance).__name__

        def on_adapter_parse_end(self, call_id, outputs, exception=None):
            with self.lock:
                name = self.adapter_of.pop(call_id, "?")
                if exception is not None:
                    d = self._s()["parse_failures"]
                    d[name] = d.get(name, 0) + 1

        def calls(self, prefix):
            return sum(v["lm_calls"] for k, v in self.stats.items() if k.startswith(prefix))

    return CallCounter()


def evaluate(program, examples, threads):
    """Test accuracy; a failed prediction is wrong, tallied by kind, never raised."""
    def one(ex):
        try:
            pred = program(text=ex.text)
            label = getattr(pred, "label", None)
            return {"pred": label, "ok": label == ex.label}
        except Exception as e:  # parse failure or failed request: wrong, not fatal
            return {"pred": None, "ok": False, "error": type(e).__name__,
                    "parse": is_parse_error(e), "message": str(e)[:300]}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        rows = list(pool.map(one, examples))
    correct = [int(r["ok"]) for r in rows]
    errors = collections.Counter(r["error"] for r in rows if "error" in r)
    first = next((r["message"] for r in rows if "error" in r), None)
    return {"n": len(rows), "correct": sum(correct),
            "accuracy": sum(correct) / len(rows) if rows else None,
            "ci95": bootstrap_ci(correct),
            "failed_parse": sum(1 for r in rows if r.get("parse")),
            "failed_other": sum(1 for r in rows if "error" in r and not r.get("parse")),
            "errors_by_type": dict(errors), "first_error": first,
            "predicted": dict(collections.Counter(str(r["pred"]) for r in rows))}


def describe(program):
    out = []
    for name, p in program.named_predictors():
        demos = []
        for d in p.demos:
            dd = d.toDict() if hasattr(d, "toDict") else dict(d)
            demos.append({k: dd[k] for k in ("text", "label", "augmented") if k in dd})
        out.append({"predictor": name, "instruction": p.signature.instructions, "demos": demos})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ptune", nargs="?", default=os.path.join(ROOT, "build", "ptune"))
    ap.add_argument("--splits", required=True, help="OUT/splits of a ptune search run")
    ap.add_argument("--instruction", default=None, help="start instruction (default: DSPy's)")
    ap.add_argument("--threads", type=int, default=8, help="DSPy num_threads (and test eval)")
    ap.add_argument("--auto", default="light", choices=["light", "medium", "heavy"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="results JSON")
    ap.add_argument("--api-base", default=None, help="an already running server, e.g. "
                    "http://127.0.0.1:8080/v1 (then no ptune serve is started)")
    ap.add_argument("--model-id", default="smol")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra ptune serve argument")
    ap.add_argument("--serve-log", default=None, help="append ptune serve's stderr here")
    ap.add_argument("--max-tokens", type=int, default=64, help="task model max_tokens")
    ap.add_argument("--prompt-max-tokens", type=int, default=512, help="proposer max_tokens")
    ap.add_argument("--max-errors", type=int, default=10**9)
    ap.add_argument("--no-json-fallback", dest="json_fallback", action="store_false",
                    help="turn off ChatAdapter's JSONAdapter fallback (on by default, as in DSPy)")
    args = ap.parse_args()

    import dspy
    from typing import Literal

    t_start = time.perf_counter()
    splits = {s: load_split(os.path.join(args.splits, s + ".jsonl")) for s in ("search", "dev", "test")}
    labels = sorted({ex.label for xs in splits.values() for ex in xs})
    versions = {"dspy": dspy.__version__}
    for mod in ("litellm", "optuna", "openai"):
        try:
            import importlib.metadata as md
            versions[mod] = md.version(mod)
        except Exception:
            versions[mod] = None
    res = {"anchor": "dspy_mipro", "versions": versions,
           "config": {"auto": args.auto, "seed": args.seed, "threads": args.threads,
                      "model_id": args.model_id, "max_tokens": args.max_tokens,
                      "prompt_max_tokens": args.prompt_max_tokens, "max_errors": args.max_errors,
                      "json_fallback": args.json_fallback, "splits": os.path.abspath(args.splits),
                      "sizes": {k: len(v) for k, v in splits.items()}, "labels": labels}}

    proc, tail = None, None
    try:
        if args.api_base:
            api_base = args.api_base.rstrip("/")
        else:
            proc, port, tail = start_server(args.ptune, args.model_id, args.serve_arg, args.serve_log)
            api_base = "http://127.0.0.1:%d/v1" % port
        res["config"]["api_base"] = api_base
        try:
            with urllib.request.urlopen(api_base + "/models", timeout=60) as r:
                res["config"]["served_models"] = [m["id"] for m in json.load(r)["data"]]
        except Exception as e:
            res["config"]["served_models"] = "GET /models failed: %s" % e

        counter = make_counter()
        task_lm = dspy.LM("openai/" + args.model_id, api_base=api_base, api_key="unused",
                          cache=False, temperature=0, max_tokens=args.max_tokens)
        prompt_lm = dspy.LM("openai/" + args.model_id, api_base=api_base, api_key="unused",
                            cache=False, max_tokens=args.prompt_max_tokens)
        dspy.configure(lm=task_lm, callbacks=[counter],
                       adapter=dspy.ChatAdapter(use_json_adapter_fallback=args.json_fallback))

        def signature(label_type, desc=None):
            fields = {"text": (str, dspy.InputField()),
                      "label": (label_type, dspy.OutputField(desc=desc) if desc else dspy.OutputField())}
            return dspy.Signature(fields, args.instruction) if args.instruction else dspy.Signature(fields)
        try:
            sig = signature(Literal[tuple(labels)])
            dspy.ChatAdapter().format(sig, demos=[], inputs={"text": "x"})
            res["config"]["label_type"] = "Literal[%d names]" % len(labels)
        except Exception as e:
            sig = signature(str, "one of: " + ", ".join(labels))
            res["config"]["label_type"] = "str (Literal failed: %s: %s)" % (type(e).__name__, e)
        res["config"]["start_instruction"] = sig.instructions
        program = dspy.Predict(sig)

        def metric(example, pred, trace=None):
            return getattr(pred, "label", None) == example.label

        def test_phase(name, prog):  # test accuracy of `prog`, its time and model calls
            counter.phase = name + "_test"
            t0 = time.perf_counter()
            res[name] = {"test": evaluate(prog, splits["test"], args.threads)}
            res[name]["seconds"] = time.perf_counter() - t0
            res[name]["lm_calls"] = counter.calls(counter.phase)
            res[name]["calls_detail"] = counter.stats.get(counter.phase)

        # 1. baseline
        test_phase("baseline", program)
        print("baseline test accuracy %.4f (%.1f s)" % (res["baseline"]["test"]["accuracy"] or 0,
                                                      res["baseline"]["seconds"]), file=sys.stderr, flush=True)

        # 2. optimization
        opt_res = res["optimization"] = {"status": "running", "stage": None, "stages": {}}
        opt = dspy.MIPROv2(metric=metric, prompt_model=prompt_lm, task_model=task_lm, auto=args.auto,
                           num_threads=args.threads, seed=args.seed, max_errors=args.max_errors)
        try:  # what auto mode will use (MIPROv2 internals; informative only)
            from dspy.teleprompt import mipro_optimizer_v2 as mv
            st = mv.AUTO_RUN_SETTINGS[args.auto]
            val_used = min(st["val_size"], len(splits["dev"]))
            opt_res["auto_settings"] = {
                "n": st["n"], "val_size_cap": st["val_size"], "valset_used": val_used,
                "minibatch": val_used > mv.MIN_MINIBATCH_SIZE, "minibatch_size": 35,
                "num_trials": opt._set_num_trials_from_num_candidates(program, False, st["n"]),
                "num_instruct_candidates": int(st["n"] * 0.5), "num_fewshot_candidates": st["n"]}
        except Exception as e:
            opt_res["auto_settings"] = "unknown: %s" % e

        def staged(stage, fn):
            def run(*a, **k):
                opt_res["stage"] = stage
                counter.phase = "opt:" + stage
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    opt_res["stages"][stage] = {"seconds": time.perf_counter() - t,
                                                "lm_calls": counter.calls("opt:" + stage),
                                                "calls_detail": counter.stats.get("opt:" + stage)}
            return run
        for stage, attr in STAGES:
            if hasattr(opt, attr):
                setattr(opt, attr, staged(stage, getattr(opt, attr)))
        counter.phase = "opt:setup"
        t0 = time.perf_counter()
        compiled = None
        try:
            compiled = opt.compile(program, trainset=splits["search"], valset=splits["dev"])
            opt_res["status"] = "ok"
        except Exception as e:  # a 135M model can break DSPy's output format: record, go on
            opt_res["status"] = "failed"
            opt_res["error"] = {"type": type(e).__name__, "message": str(e)[:2000],
                                "parse_error": is_parse_error(e),
                                "traceback": traceback.format_exc()[-4000:]}
        opt_res["seconds"] = time.perf_counter() - t0
        opt_res["lm_calls"] = counter.calls("opt:")
        opt_res["parse_failures"] = sum(sum(v["parse_failures"].values())
                                        for k, v in counter.stats.items() if k.startswith("opt:"))
        opt_res["lm_errors"] = sum(sum(v["lm_errors"].values())
                                   for k, v in counter.stats.items() if k.startswith("opt:"))
        if compiled is not None:
            opt_res["best_valset_score_pct"] = getattr(compiled, "score", None)  # DSPy: percent
            opt_res["program"] = describe(compiled)
            logs = getattr(compiled, "trial_logs", {}) or {}
            opt_res["trials"] = [{"trial": t, **{k: v for k, v in d.items()
                                                 if k in ("mb_score", "full_eval_score",
                                                          "total_eval_calls_so_far")}}
                                 for t, d in sorted(logs.items())]

            # 3. compiled
            test_phase("compiled", compiled)
        res["calls_by_phase"] = counter.stats
    except Exception as e:  # setup or server failure: still write what we have
        res["error"] = {"type": type(e).__name__, "message": str(e)[:2000],
                        "traceback": traceback.format_exc()[-4000:]}
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            if "error" in res and tail:
                res["error"]["serve_stderr_tail"] = "".join(tail)
    res["seconds_total"] = time.perf_counter() - t_start

    with open(args.out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    print_summary(res, args.out)
    return 0 if "error" not in res and res.get("optimization", {}).get("status") == "ok" else 1


def print_summary(res, out):
    c = res["config"]
    print("\nDSPy %s MIPROv2 auto=%s seed=%d threads=%d  model %s at %s" % (
        res["versions"]["dspy"], c["auto"], c["seed"], c["threads"], c["model_id"], c.get("api_base")))
    print("splits: %(search)d search, %(dev)d dev, %(test)d test; " % c["sizes"]
          + "%d labels, label type %s" % (len(c["labels"]), c.get("label_type")))
    fmt = "%-28s %9s %17s %8s %9s %9s"
    print(fmt % ("phase", "accuracy", "95% CI", "LM calls", "seconds", "failed"))

    def row(name, ph):
        if not ph:
            return
        t = ph.get("test")
        if t:
            ci = "[%.4f, %.4f]" % tuple(t["ci95"]) if t["ci95"][0] is not None else "-"
            failed = "%d+%d" % (t["failed_parse"], t["failed_other"])
            print(fmt % (name, "%.4f" % t["accuracy"], ci, ph["lm_calls"], "%.1f" % ph["seconds"], failed))
        else:
            print(fmt % (name, "-", "-", ph.get("lm_calls", "-"), "%.1f" % ph.get("seconds", 0),
                         ph.get("parse_failures", "-")))
    row("baseline (test)", res.get("baseline"))
    o = res.get("optimization")
    if o:
        for stage, d in o["stages"].items():
            pf = sum((d.get("calls_detail") or {}).get("parse_failures", {}).values())
            row("  MIPROv2 " + stage, {"lm_calls": d["lm_calls"], "seconds": d["seconds"],
                                         "parse_failures": pf})
        row("MIPROv2 compile (%s)" % o["status"], o)
    row("compiled (test)", res.get("compiled"))
    print("failed = test predictions that failed to parse + failed otherwise (both count as wrong);"
          " for MIPROv2, failed parses of any reply")
    if o and o.get("best_valset_score_pct") is not None:
        print("MIPROv2 best dev score %.2f%%; compiled program: %d demos, instruction %r" % (
            o["best_valset_score_pct"], len(o["program"][0]["demos"]), o["program"][0]["instruction"][:200]))
    if o and o["status"] != "ok":
        print("MIPROv2 FAILED in stage %s: %s: %s" % (o.get("stage"), o["error"]["type"],
                                                      o["error"]["message"][:500]))
    if "error" in res:
        print("ERROR: %s: %s" % (res["error"]["type"], res["error"]["message"][:500]))
    print("wrote %s" % out)


if __name__ == "__main__":
    sys.exit(main())
