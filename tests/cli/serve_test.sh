#!/usr/bin/env bash
# `ptune serve` as a user runs it (needs the default model): two PEFT adapters on a free loopback
# port; /health, /v1/models, chat and completions (plain and streamed) through the real model;
# an unknown model and a bad field answered in OpenAI's error shape; then SIGTERM while a request
# is in flight: that request is answered in full and the server exits 0.
# Usage: serve_test.sh PTUNE_BINARY
set -u
PTUNE=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
source "$(dirname "$0")/check.sh"
PEFT="$ROOT/tests/data/peft_smollm2"

INTENT="$ROOT/examples/support-intent/task.json"
# What `ptune eval` predicts for nine test messages, to hold /v1/classify to.
"$PTUNE" eval --task "$INTENT" --limit 9 --progress off --no-record -o "$TMP/eval" >/dev/null

"$PTUNE" serve --port 0 --model-id smol --adapter soft="$PEFT/prefix_tuning" \
  --adapter prompt="$PEFT/prompt_tuning" --task smol="$INTENT" >"$TMP/log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=$(serve_port "$TMP/log" $SERVER)
check listening "adapters soft, prompt" "$(cat "$TMP/log")"
BASE="http://127.0.0.1:$PORT"

# http METHOD PATH [BODY]: prints "STATUS BODY" (Python's standard library; no curl needed).
http() {
  python3 - "$1" "$BASE$2" "${3:-}" <<'PY'
import sys, urllib.request, urllib.error
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=300) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}

check health "200 {\"status\":\"ok\"}" "$(http GET /health)"
models=$(http GET /v1/models)
check models-base '"id":"smol"' "$models"
check models-soft '"id":"soft"' "$models"
check models-prompt '"kind":"prompt-tuning adapter, 8 virtual tokens"' "$models"

chat=$(http POST /v1/chat/completions '{"model": "smol", "max_tokens": 12, "temperature": 0,
  "messages": [{"role": "user", "content": "What is the capital of France?"}]}')
check chat-status "200 " "$chat"
check chat-answer "Paris" "$chat"
check chat-object '"object":"chat.completion"' "$chat"
# The same request greedy through `ptune generate --chat` gives the same words.
alone=$("$PTUNE" generate --chat -p "What is the capital of France?" --max-tokens 12 -q)
check chat-equals-generate "$(printf '%s' "$alone" | head -c 25)" "$chat"

stream=$(http POST /v1/completions '{"model": "soft", "prompt": "Once upon a time",
  "max_tokens": 8, "stream": true, "temperature": 0}')
check stream-chunks 'data: {"choices":[{"finish_reason":null' "$stream"
check stream-done "data: [DONE]" "$stream"
check stream-finish '"finish_reason":"length"' "$stream"

# /v1/classify: the same nine messages get eval's predictions, with nine label probabilities.
body=$(python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]
print(json.dumps({"model": "smol", "input": [r["input"]["text"] for r in rows]}))' "$TMP/eval/examples.jsonl")
classified=$(http POST /v1/classify "$body")
check classify-status "200 " "$classified"
check classify-equals-eval "equal" "$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
got=json.loads(sys.argv[2].split(" ",1)[1])["data"]
same=[g["label"] for g in got]==[r["prediction"] for r in rows]
sums=all(abs(sum(l["probability"] for l in g["labels"])-1)<1e-6 and len(g["labels"])==9 for g in got)
print("equal" if same and sums else "differ: %s" % sys.argv[2][:400])' "$TMP/eval/examples.jsonl" "$classified")"
check classify-no-task '"param":"model"' \
  "$(http POST /v1/classify '{"model": "soft", "input": "x"}')"

check unknown-model '404 {"error":{"code":"model_not_found"' \
  "$(http POST /v1/completions '{"model": "nope", "prompt": "x"}')"
check bad-field '"param":"max_token"' \
  "$(http POST /v1/completions '{"model": "smol", "prompt": "x", "max_token": 3}')"

# The ptune client against the ptune server: `ptune eval --endpoint` scores through echo
# log-probs and gets what the local eval gets, for the base model and an adapter; a qa task's
# greedy answers are the local ones; a rerun with --cache makes no new calls.
SENT="$ROOT/examples/sentiment/task.json"
QA="$ROOT/examples/short-qa/task.json"
same_records() {  # same_records LOCAL_DIR REMOTE_DIR: predictions equal, label scores within 1e-3
  python3 - "$1/examples.jsonl" "$2/examples.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
same = len(a) == len(b) and [x["prediction"] for x in a] == [y["prediction"] for y in b]
diff = max((abs(x["label_scores"][k]["score"] - y["label_scores"][k]["score"])
            for x, y in zip(a, b) if "label_scores" in x for k in x["label_scores"]), default=0)
print("same" if same and diff < 1e-3 else "differ (score diff %g): %s | %s" % (
    diff, [x["prediction"] for x in a], [y["prediction"] for y in b]))
PY
}
remote() { "$PTUNE" eval --endpoint "$BASE/v1" --progress off --no-record "$@"; }
"$PTUNE" eval --task "$SENT" --limit 8 --progress off --no-record -o "$TMP/l-base" >/dev/null
out=$(remote --remote-model smol --task "$SENT" --limit 8 -o "$TMP/r-base" --cache "$TMP/cache")
check client-scoring "scoring  echo" "$out"
check client-equals-local same "$(same_records "$TMP/l-base" "$TMP/r-base")"
"$PTUNE" eval --task "$SENT" --limit 8 --adapter "$PEFT/prefix_tuning" --progress off \
  --no-record -o "$TMP/l-soft" >/dev/null
remote --remote-model soft --task "$SENT" --limit 8 -o "$TMP/r-soft" >/dev/null
check client-adapter-equals-local same "$(same_records "$TMP/l-soft" "$TMP/r-soft")"
again=$(remote --remote-model smol --task "$SENT" --limit 8 --cache "$TMP/cache" --json)
check client-cache '"cache_hits": 17' "$again"
check client-cache-calls '"attempts": 0' "$again"
"$PTUNE" eval --task "$QA" --limit 4 --progress off --no-record -o "$TMP/l-qa" >/dev/null
remote --remote-model smol --task "$QA" --limit 4 -o "$TMP/r-qa" >/dev/null
check client-qa-equals-local same "$(same_records "$TMP/l-qa" "$TMP/r-qa")"
unknown=$(remote --remote-model nope --task "$SENT" --limit 2 --retries 0 2>&1)
check client-unknown-model "HTTP 404: the model 'nope' does not exist" "$unknown"
check client-names-example "example $ROOT/examples/sentiment/test.jsonl:" "$unknown"

# SIGTERM with a request in flight: it is answered in full, then the server exits 0.
http POST /v1/completions '{"model": "prompt", "prompt": "The three best things about",
  "max_tokens": 40, "temperature": 0}' >"$TMP/inflight" &
CLIENT=$!
for _ in $(seq 300); do
  [[ "$(http GET /metrics)" == *$'\nptune_sequences_running 1'* ]] && break
  sleep 0.05
done
kill -TERM $SERVER
wait $CLIENT
wait $SERVER
status=$?
check drained-request '"finish_reason":"length"' "$(cat "$TMP/inflight")"
check drained-tokens '"completion_tokens":40' "$(cat "$TMP/inflight")"
check drained-exit "exit 0" "exit $status"
check drained-log "SIGTERM: draining in-flight requests" "$(cat "$TMP/log")"

echo "serve_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
