#!/usr/bin/env bash
# End-to-end checks of the ptune command on the default model: each case runs the binary and
# compares what a user would see; tuned prompts are checked by the accuracy they reach, parsed
# from `ptune eval`'s table and compared with a bound. Usage: cli_test.sh PTUNE_BINARY
set -u
PTUNE=$1
source "$(dirname "$0")/check.sh"
# Every eval and tune here records into a store of its own, not the working directory's.
RUNS_DIR=$(mktemp -d)
trap 'rm -rf "$RUNS_DIR"' EXIT
export PTUNE_RUNS=$RUNS_DIR/ptune.db
accuracy() {  # accuracy EVAL_ARGS...: the accuracy in `ptune eval`'s table ("none" if absent)
  local a
  a=$("$PTUNE" eval --progress off "$@" 2>&1 | sed -n 's/^accuracy  *\([0-9.][0-9.]*\) .*/\1/p')
  echo "${a:-none}"
}
check tokenize "[19556,905]" "$(echo 'Hello world' | "$PTUNE" tokenize)"
check decode "Hello world" "$(echo '[19556,905]' | "$PTUNE" tokenize --decode)"
check special "[1,4093]" "$(echo '<|im_start|>user' | "$PTUNE" tokenize)"
check info '"layers": 30' "$("$PTUNE" info --json)"
check info-cpu '"cpu_features": [' "$("$PTUNE" info --json)"
# A GGUF string that is not UTF-8 is named (not a bare nlohmann exception) and shown as U+FFFD.
BAD_NAME=$(mktemp -d)
MODEL_FILE=$("$PTUNE" info --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["file"])')
cp "$MODEL_FILE" "$BAD_NAME/m.gguf"
python3 - "$BAD_NAME/m.gguf" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    head = f.read(1 << 16)
    at = head.index(b"general.name") + len("general.name") + 4 + 8  # type u32, length u64
    f.seek(at)
    f.write(b"\xff")
PY
check info-utf8 "name (GGUF key general.name) is not valid UTF-8 at byte 0" \
  "$("$PTUNE" info --json -m "$BAD_NAME/m.gguf" 2>&1)"
check info-utf8-json $'"name": "\xef\xbf\xbdmollm2' \
  "$("$PTUNE" info --json -m "$BAD_NAME/m.gguf" 2>/dev/null)"
# token_embd.weight with fewer rows than the tokenizer has tokens is refused before the weights
# load (it failed as libtorch's "index out of range in self" on the first such id).
python3 - "$BAD_NAME/m.gguf" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    head = f.read(1 << 24)  # the tensor infos follow the vocabulary's metadata
    name = b"token_embd.weight"
    at = head.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    assert struct.unpack("<I", head[at:at + 4])[0] == 2
    f.seek(at + 4 + 8)  # n_dims u32, dims[0] (the embedding width), then dims[1] (the rows)
    f.write(struct.pack("<Q", 100))
PY
check embd-rows "the tokenizer has 49152 tokens but token_embd.weight has 100 rows" \
  "$("$PTUNE" generate -m "$BAD_NAME/m.gguf" -p x --max-tokens 1 2>&1)"
rm -rf "$BAD_NAME"
check logits '"token": " Paris"' "$("$PTUNE" logits -p 'The capital of France is' --top 1)"
check generate " Paris" "$("$PTUNE" generate -q -p 'The capital of France is' --max-tokens 3)"
check stop '"finish_reason": "stop"' \
  "$("$PTUNE" generate -q --json -p 'The capital of France is' --max-tokens 20 --stop '.')"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# A user's text is text: control-token spelling in a prompt stays plain unless --parse-special.
check literal-prompt '"prompt_tokens": 7' \
  "$("$PTUNE" generate -q --json -p '<|im_start|>' --max-tokens 1)"
check special-prompt '"prompt_tokens": 1' \
  "$("$PTUNE" generate -q --json --parse-special -p '<|im_start|>' --max-tokens 1)"
check adapter "finish: length" "$("$PTUNE" generate -p 'The movie was' --max-tokens 4 \
  --adapter "$ROOT/tests/data/peft_smollm2/prefix_tuning" 2>&1)"
# An adapter holding a NaN is refused at load (not scored as accuracy 0.5 with null scores).
NAN_ADAPTER=$RUNS_DIR/nan_adapter
cp -r "$ROOT/tests/data/peft_smollm2/prompt_tuning" "$NAN_ADAPTER"
python3 - "$NAN_ADAPTER/adapter_model.safetensors" <<'PY'
import json, struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", data[:8])[0]
begin = json.loads(data[8:8 + n])["prompt_embeddings"]["data_offsets"][0]
data[8 + n + begin:8 + n + begin + 4] = struct.pack("<f", float("nan"))
open(path, "wb").write(data)
PY
check nan-adapter "non-finite value" "$("$PTUNE" generate -p 'x' --max-tokens 1 \
  --adapter "$NAN_ADAPTER" 2>&1)"
check adapter-mismatch "the model needs 30" "$("$PTUNE" generate -p 'x' \
  --adapter "$ROOT/tests/data/peft/p_tuning" 2>&1)"
# A row longer than the model's context (8192 tokens) is refused naming its line, before any
# forward (it used to die in a 3.6 GB allocation).
LONG=$RUNS_DIR/long
mkdir -p "$LONG"
python3 -c 'import json; print(json.dumps({"text": "word " * 9000, "label": "positive"}))' \
  > "$LONG/test.jsonl"
sed 's#"test": "test.jsonl"#"test": "'"$LONG"'/test.jsonl"#' "$ROOT/examples/sentiment/task.json" \
  | sed 's#"train": "train.jsonl"#"train": "'"$ROOT"'/examples/sentiment/train.jsonl"#' \
  | sed 's#"dev": "dev.jsonl"#"dev": "'"$ROOT"'/examples/sentiment/dev.jsonl"#' > "$LONG/task.json"
check long-row "test.jsonl:1: the prompt is" "$("$PTUNE" eval --progress off --no-record \
  --task "$LONG/task.json" 2>&1)"
# bfloat16 matmuls only where the CPU has bf16 hardware (libtorch's fallback takes minutes).
if ! grep -qE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  check bf16-refused "no bfloat16 matmul hardware" "$("$PTUNE" generate -p 'x' --max-tokens 1 \
    --dtype bfloat16 2>&1)"
fi
# A folder given as a data file is named as one (not "split has no examples").
sed 's#"test": "[^"]*"#"test": "'"$LONG"'"#' "$LONG/task.json" > "$LONG/folder-task.json"
check data-folder "is a folder" "$("$PTUNE" eval --progress off --no-record \
  --task "$LONG/folder-task.json" 2>&1)"
TUNED=$(mktemp -d)
check tune "wrote $TUNED/adapter_config.json" "$("$PTUNE" tune --task "$ROOT/examples/sentiment/task.json" \
  -o "$TUNED" --max-steps 2 --virtual-tokens 4 --dev-limit 8 2>/dev/null)"
# The tuned prompt must be measured, not only printed: on the 9-intent task the untuned model and
# an untrained prompt both score chance (0.11, one intent for everything); 8 steps of prompt
# tuning reach about 0.42 on the same 45 test rows. A tune that learns nothing, an adapter
# written or read wrong, or eval ignoring --adapter, stays near 0.11 and fails the floor.
INTENT="$ROOT/examples/support-intent/task.json"
"$PTUNE" tune --task "$INTENT" -o "$TUNED/intent" --max-steps 8 --virtual-tokens 4 --dev-limit 9 \
  --progress off >/dev/null 2>&1
untuned=$(accuracy --task "$INTENT" --limit 45 -o "$TUNED/intent-eval")
check eval-out '"accuracy"' "$(cat "$TUNED/intent-eval/summary.json" 2>&1)"
tuned=$(accuracy --task "$INTENT" --limit 45 --adapter "$TUNED/intent")
check_ge tuned-eval "$tuned" 0.3
check_ge tuned-eval-beats-untuned "$tuned" "$(awk -v u="$untuned" 'BEGIN { print u + 0.15 }')"
# Running every prompt in full changes no score beyond rounding, so not the accuracy either.
check shared-prefix-off "$tuned" "$(accuracy --task "$INTENT" --limit 45 --adapter "$TUNED/intent" \
  --no-shared-prefix)"
check old-flag-refused "not expected" "$("$PTUNE" eval --task "$INTENT" --no-prefix-cache 2>&1)"
check tune-prefix "method prefix-tuning" "$("$PTUNE" tune --method prefix-tuning \
  --task "$ROOT/examples/sentiment/task.json" -o "$TUNED/prefix" --max-steps 2 --virtual-tokens 4 \
  --dev-limit 8 2>/dev/null)"
# Two steps of prefix tuning already lift 8 sentiment rows from 0.625 (untuned) to 0.875.
check_ge tuned-prefix-eval "$(accuracy --task "$ROOT/examples/sentiment/task.json" --limit 8 \
  --adapter "$TUNED/prefix")" "$(accuracy --task "$ROOT/examples/sentiment/task.json" --limit 8)"
check tune-ptuning "method p-tuning" "$("$PTUNE" tune --method p-tuning --encoder lstm \
  --encoder-hidden 32 --task "$ROOT/examples/sentiment/task.json" -o "$TUNED/pt" --max-steps 2 \
  --virtual-tokens 4 --dev-limit 8 --progress off 2>&1)"
check ptuning-generate "finish: length" "$("$PTUNE" generate -p 'The movie was' --max-tokens 4 \
  --adapter "$TUNED/pt" 2>&1)"
check tune-qa-lm-loss '"loss": "lm"' "$("$PTUNE" tune --task "$ROOT/examples/short-qa/task.json" \
  -o "$TUNED/qa" --max-steps 1 --virtual-tokens 4 --dev-limit 2 --progress off >/dev/null 2>&1;
  cat "$TUNED/qa/ptune_train.json")"
check tune-soft-template "has {soft...} slots" "$("$PTUNE" tune --task "$ROOT/examples/sentiment/task.json" \
  -o "$TUNED/bad" --template soft --max-steps 1 2>&1)"
check method-option-not-taken "--encoder does not apply to --method prompt-tuning" \
  "$("$PTUNE" tune --task "$ROOT/examples/sentiment/task.json" -o "$TUNED/x" --encoder lstm 2>&1)"
# A discrete prompt file goes through the same --adapter: placed as the instruction it changes
# what eval measures (the report names it), and generate and chat put it before the prompt.
cat > "$TUNED/prompt.json" <<'JSON'
{"format": "ptune-discrete-prompt", "version": 1, "placement": "instruction", "method": "hand",
 "text": "Is this review positive or negative? Answer with one word."}
JSON
check discrete-eval "adapter $TUNED/prompt.json (discrete prompt (instruction, found by hand))" \
  "$("$PTUNE" eval --progress off --task "$ROOT/examples/sentiment/task.json" --limit 8 \
  --adapter "$TUNED/prompt.json" 2>&1)"
check discrete-generate "finish: length" "$("$PTUNE" generate -p 'The movie was' --max-tokens 4 \
  --adapter "$TUNED/prompt.json" 2>&1)"
sed 's/"instruction"/"slot", "slot": "prompt"/' "$TUNED/prompt.json" > "$TUNED/slot.json"
check discrete-slot-needs-template "needs a task template" \
  "$("$PTUNE" generate -p 'x' --adapter "$TUNED/slot.json" 2>&1)"
check discrete-bad-file "key 'version': must be 1" "$(echo '{"format": "ptune-discrete-prompt", "version": 3}' \
  > "$TUNED/bad.json"; "$PTUNE" eval --task "$ROOT/examples/sentiment/task.json" \
  --adapter "$TUNED/bad.json" 2>&1)"
# Output folders are checked before any work: an empty path, a file, or a folder that cannot be
# written fails at once (training would otherwise be lost at the end).
S="$ROOT/examples/sentiment/task.json"
check out-empty "empty path" "$("$PTUNE" tune --task "$S" -o "" --max-steps 1 2>&1)"
check eval-out-empty "empty path" "$("$PTUNE" eval --task "$S" --out "" 2>&1)"
touch "$TUNED/a-file"
check out-file "is not a folder" "$("$PTUNE" tune --task "$S" -o "$TUNED/a-file" --max-steps 1 2>&1)"
started=$SECONDS
check out-proc "cannot" "$("$PTUNE" tune --task "$S" -o /proc/ptune-out --max-steps 1000 2>&1)"
check out-before-work "yes" "$( ((SECONDS - started < 8)) && echo yes)"  # 1000 steps take minutes
# An adapter already in -o is kept unless --force (refused before any work); a resume with other
# settings is refused naming each, and the record of a resumed run covers the whole run.
check tune-exists "already holds an adapter (adapter_config.json); pass --force" \
  "$("$PTUNE" tune --task "$S" -o "$TUNED/prefix" --max-steps 1000 2>&1)"
T=(tune --task "$S" --virtual-tokens 4 --dev-limit 2 --progress off --no-record)
check tune-force "wrote $TUNED/prefix/adapter_config.json" \
  "$("$PTUNE" "${T[@]}" -o "$TUNED/prefix" --force --max-steps 1 2>&1)"
"$PTUNE" "${T[@]}" -o "$TUNED/ck-a" --checkpoint "$TUNED/ck" --max-steps 1 >/dev/null 2>&1
check resume-changed "lr 0.01 (checkpoint: 0.029999999999999999), template bare (checkpoint: default)" \
  "$("$PTUNE" "${T[@]}" -o "$TUNED/ck-b" --checkpoint "$TUNED/ck" --max-steps 1 --lr 0.01 \
  --template bare 2>&1)"
"$PTUNE" "${T[@]}" -o "$TUNED/ck-b" --checkpoint "$TUNED/ck" --max-steps 1 >/dev/null 2>&1
check resume-record '"train_examples": 8' "$(cat "$TUNED/ck-b/ptune_train.json" 2>&1)"
rm -rf "$TUNED"
check bad-model "open failed" "$("$PTUNE" info -m /nonexistent.gguf 2>&1)"
check bad-ids "not a token id" "$("$PTUNE" logits --ids 1,x 2>&1)"
"$PTUNE" info -m /nonexistent.gguf >/dev/null 2>&1
check bad-model-exit "1" "$?"
# Every numeric flag has a range checked while parsing: the message names the flag, the value
# and the range, and is short (CLI11's own check printed a 300-digit bound). "-1" is not wrapped
# into a huge unsigned value, nor text past 64 bits clamped. Resource flags are bounded by the
# machine (threads, memory) and the model (context), before any large allocation.
refused() {  # refused NAME EXPECTED PTUNE_ARGS...: non-zero exit, EXPECTED said, in few words
  local name=$1 want=$2 out rc
  shift 2
  out=$("$PTUNE" "$@" 2>&1)
  rc=$?
  check "$name" "$want" "$out"
  check "$name-exit" "non-zero" "$( ((rc != 0)) && echo non-zero || echo "rc $rc")"
  check "$name-short" "short" "$( ((${#out} < 300)) && echo short || echo "${#out} chars")"
}
LIM=$(mktemp -d)
refused batch-size-0 "--batch-size: 0 is not between 1 and 4096" eval --task "$S" --batch-size 0
refused tune-batch-size-bound "--batch-size: 100000 is not between 1 and 4096" \
  tune --task "$S" -o "$LIM/o" --batch-size 100000
refused limit-negative "--limit: -1 is not between 0 and 1000000000" eval --task "$S" --limit -1
refused limit-overflow "--limit: 99999999999999999999 is not between 0 and 1000000000" \
  eval --task "$S" --limit 99999999999999999999
refused seed-negative "--seed: -1 is not between 0 and 9223372036854775807" \
  tune --task "$S" -o "$LIM/o" --seed -1
refused eval-seed-negative "--seed: -1 is not between 0" eval --task "$S" --seed -1
refused generate-seed-negative "--seed: -1 is not between 0" generate -p x --seed -1
refused weight-decay-negative "--weight-decay: -1 is not between 0 and 1" \
  tune --task "$S" -o "$LIM/o" --weight-decay -1
refused lr-nan "--lr: nan is not between 0 and 10" tune --task "$S" -o "$LIM/o" --lr nan
refused max-steps-not-integer "--max-steps: expected an integer, got '1.5'" \
  tune --task "$S" -o "$LIM/o" --max-steps 1.5
refused top-p "--top-p: 2 is not between 0 and 1" generate -p x --top-p 2
refused run-id "id: -1 is not between 1 and" runs show -1
refused threads "--threads: 100000 is not between 0 and" info --threads 100000
refused virtual-tokens "--virtual-tokens: 1000000 is not between 1 and 4096" \
  tune --task "$S" -o "$LIM/o" --virtual-tokens 1000000
refused virtual-tokens-overflow "--virtual-tokens: 99999999999999999999 does not fit" \
  tune --task "$S" -o "$LIM/o" --virtual-tokens 99999999999999999999
refused encoder-hidden "--encoder-hidden: 100000000 is not between 0 and 65536" \
  tune --task "$S" -o "$LIM/o" --method p-tuning --encoder-hidden 100000000
# Inside the static caps, memory decides, from the model's shape: ~95 TiB of LSTM encoder, and
# a batch of 64 rows of 8000 tokens (~5 TiB of activations), refused with the estimate.
refused encoder-memory "--encoder-hidden 65536 --encoder-layers 64: needs about" \
  tune --task "$S" -o "$LIM/o" --method p-tuning --encoder lstm --encoder-layers 64 \
  --encoder-hidden 65536 --no-record
python3 - "$S" "$LIM" <<'PY'
import json, sys
task = json.load(open(sys.argv[1]))
task["data"] = {"train": "train.jsonl", "dev": "dev.jsonl", "fields": {"text": "text", "label": "label"}}
json.dump(task, open(sys.argv[2] + "/long.json", "w"))
with open(sys.argv[2] + "/train.jsonl", "w") as f:
    for i in range(64):
        f.write(json.dumps({"text": "word " * 8000, "label": ["positive", "negative"][i % 2]}) + "\n")
with open(sys.argv[2] + "/dev.jsonl", "w") as f:
    f.write(json.dumps({"text": "fine", "label": "positive"}) + "\n")
PY
refused batch-memory "--batch-size 64: needs about" \
  tune --task "$LIM/long.json" -o "$LIM/o" --batch-size 64 --no-record
check batch-memory-says-memory "of memory this machine has" \
  "$("$PTUNE" tune --task "$LIM/long.json" -o "$LIM/o" --batch-size 64 --no-record 2>&1)"
refused max-tokens-context "--max-tokens 100000: more than the model's context of 8192 tokens" \
  generate -p x --max-tokens 100000
rm -rf "$LIM"
echo "cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
