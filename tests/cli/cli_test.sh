#!/usr/bin/env bash
# End-to-end checks of the ptune command on the default model: each case runs the binary and
# compares what a user would see. Usage: cli_test.sh PTUNE_BINARY
set -u
PTUNE=$1
pass=0 fail=0
check() {  # check NAME EXPECTED_SUBSTRING ACTUAL
  if [[ "$3" == *"$2"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: expected to contain %q, got:\n%s\n' "$1" "$2" "$3"
  fi
}
check tokenize "[19556,905]" "$(echo 'Hello world' | "$PTUNE" tokenize)"
check decode "Hello world" "$(echo '[19556,905]' | "$PTUNE" tokenize --decode)"
check special "[1,4093]" "$(echo '<|im_start|>user' | "$PTUNE" tokenize)"
check info '"layers": 30' "$("$PTUNE" info --json)"
check logits '"token": " Paris"' "$("$PTUNE" logits -p 'The capital of France is' --top 1)"
check generate " Paris" "$("$PTUNE" generate -q -p 'The capital of France is' --max-tokens 3)"
check stop '"finish_reason": "stop"' \
  "$("$PTUNE" generate -q --json -p 'The capital of France is' --max-tokens 20 --stop '.')"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
check adapter "finish: length" "$("$PTUNE" generate -p 'The movie was' --max-tokens 4 \
  --adapter "$ROOT/tests/data/peft_smollm2/prefix_tuning" 2>&1)"
check adapter-mismatch "the model needs 30" "$("$PTUNE" generate -p 'x' \
  --adapter "$ROOT/tests/data/peft/p_tuning" 2>&1)"
TUNED=$(mktemp -d)
check tune "wrote $TUNED/adapter_config.json" "$("$PTUNE" tune --task "$ROOT/examples/sentiment/task.json" \
  -o "$TUNED" --max-steps 2 --virtual-tokens 4 --dev-limit 8 2>/dev/null)"
check tuned-eval "accuracy" "$("$PTUNE" eval --task "$ROOT/examples/sentiment/task.json" --limit 8 \
  --adapter "$TUNED" --progress off 2>&1)"
check tune-prefix "method prefix-tuning" "$("$PTUNE" tune --method prefix-tuning \
  --task "$ROOT/examples/sentiment/task.json" -o "$TUNED/prefix" --max-steps 2 --virtual-tokens 4 \
  --dev-limit 8 2>/dev/null)"
check tuned-prefix-eval "accuracy" "$("$PTUNE" eval --task "$ROOT/examples/sentiment/task.json" \
  --limit 8 --adapter "$TUNED/prefix" --progress off 2>&1)"
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
rm -rf "$TUNED"
check bad-model "open failed" "$("$PTUNE" info -m /nonexistent.gguf 2>&1)"
check bad-ids "not a token id" "$("$PTUNE" logits --ids 1,x 2>&1)"
"$PTUNE" info -m /nonexistent.gguf >/dev/null 2>&1
check bad-model-exit "1" "$?"
echo "cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
