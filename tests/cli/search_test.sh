#!/usr/bin/env bash
# `ptune search` as a user runs it (needs the default model): a small search on the sentiment
# example; then the same search killed with SIGKILL mid-way and run again with the same command
# ends with the same decision and leaderboard; `ptune eval` on the written winner reproduces its
# dev score; the written splits never share a row; a damaged journal is refused, untouched; a
# proposer behind `ptune serve` is asked through --proposer-endpoint.
# Usage: search_test.sh PTUNE_BINARY
set -u
PTUNE=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
SEARCH="" SERVER=""
trap 'kill -9 $SEARCH $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
source "$(dirname "$0")/check.sh"

search() {  # search OUT: the one command both runs use
  "$PTUNE" search -t "$ROOT/examples/sentiment/task.json" --budget 300 --search-size 32 \
    --first-rung 8 --shots 2 --proposer none --progress off --no-record -o "$1"
}

search "$TMP/whole" >"$TMP/whole.log" 2>&1
check whole-ran "wrote $TMP/whole/task.json" "$(cat "$TMP/whole.log")"

# Killed once the journal holds some scores, then resumed.
search "$TMP/killed" >/dev/null 2>&1 &
SEARCH=$!
for _ in $(seq 1200); do
  [[ $(wc -l 2>/dev/null <"$TMP/killed/journal.jsonl" || echo 0) -ge 60 ]] && break
  sleep 0.05
done
kill -9 $SEARCH
wait $SEARCH 2>/dev/null
lines=$(wc -l <"$TMP/killed/journal.jsonl")
check_ge killed-mid-way "$lines" 60
check_not killed-before-the-end "x" "$(ls "$TMP/killed/result.json" 2>/dev/null && echo x)"
search "$TMP/killed" >"$TMP/resumed.log" 2>&1
check resumed "search: resuming from $TMP/killed/journal.jsonl" "$(cat "$TMP/resumed.log")"

same=$(python3 - "$TMP/whole" "$TMP/killed" <<'PY'
import json, sys
a, b = sys.argv[1], sys.argv[2]
ra, rb = (json.load(open(d + "/result.json")) for d in (a, b))
for r in (ra, rb):
    r["budget"].pop("computed"); r["budget"].pop("replayed")
la, lb = (json.load(open(d + "/leaderboard.json")) for d in (a, b))
print("same" if ra == rb and la == lb and ra["budget"]["spent"] > 0 else "differ")
print("replayed", json.load(open(b + "/result.json"))["budget"]["replayed"] > 0)
PY
)
check resume-same-result "same" "$same"
check resume-replayed "replayed True" "$same"

# The winner's dev score, reproduced by ptune eval from the written task file.
read -r dev n_dev < <(python3 -c "
import json, sys
r = json.load(open('$TMP/whole/result.json'))
rows = [e for e in json.load(open('$TMP/whole/leaderboard.json')) if e['id'] == r['winner_id']]
print('%.4f' % rows[0]['dev']['value'], r['dev_examples'])")
ev=$("$PTUNE" eval -t "$TMP/whole/candidate_task.json" --split dev --limit "$n_dev" --seed 0 \
  --progress off --no-record)
check eval-reproduces-dev "accuracy  $dev" "$(echo "$ev" | sed -E 's/ +/  /')"

# The splits written for other tools share no row.
overlap=$(python3 -c "
import json
rows = [set(json.loads(l)['source'] for l in open('$TMP/whole/splits/%s.jsonl' % s)) for s in ('search', 'dev', 'test')]
print(len(rows[0] & rows[1]) + len(rows[0] & rows[2]) + len(rows[1] & rows[2]), min(map(len, rows)) > 0)")
check splits-disjoint "0 True" "$overlap"

# A damaged journal: a clear error naming the line, and the file left as it was.
printf '{"journal":"ptune search","version":1}\nnot json\n{"score":"k","value":1}\n' >"$TMP/bad.jsonl"
mkdir -p "$TMP/bad"
cp "$TMP/bad.jsonl" "$TMP/bad/journal.jsonl"
out=$(search "$TMP/bad" 2>&1)
check damaged-journal-error "journal.jsonl:2: not JSON" "$out"
check damaged-journal-untouched "" "$(cmp "$TMP/bad.jsonl" "$TMP/bad/journal.jsonl")"

# Instructions proposed by a model behind an OpenAI-compatible endpoint: ptune serve's.
"$PTUNE" serve --port 0 --model-id smol >"$TMP/serve.log" 2>&1 &
SERVER=$!
PORT=$(serve_port "$TMP/serve.log" $SERVER)
"$PTUNE" search -t "$ROOT/examples/sentiment/task.json" --budget 200 --search-size 16 \
  --first-rung 8 --vary instruction --proposer-endpoint "http://127.0.0.1:$PORT/v1" \
  --proposer-model smol --progress off --no-record -o "$TMP/endpoint" >"$TMP/endpoint.log" 2>&1
kill $SERVER
wait $SERVER 2>/dev/null
asked=$(python3 -c "
import json
p = json.load(open('$TMP/endpoint/result.json'))['proposals']
ok = p['asked'] >= 6 and p['failed'] == 0 and p['accepted'] + p['malformed'] == p['asked']
print('asked', 'ok' if ok else p)" 2>&1)
check endpoint-proposals "asked ok" "$asked"

echo "search_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
