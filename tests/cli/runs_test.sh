#!/usr/bin/env bash
# The run store end to end, as a user meets it (needs the default model): eval and tune record
# their runs; `ptune runs` lists, shows, compares, exports and deletes them; `ptune report` draws
# them; a failed run is recorded as failed, a killed one as interrupted; --no-record records
# nothing; an unusable store fails before any work. Usage: runs_test.sh PTUNE_BINARY
set -u
PTUNE=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PTUNE_RUNS="$TMP/store/ptune.db"
source "$(dirname "$0")/check.sh"
INTENT="$ROOT/examples/support-intent/task.json"

check eval-recorded "recorded run 1 in $PTUNE_RUNS" \
  "$("$PTUNE" eval --task "$INTENT" --limit 45 --progress off 2>&1)"
check tune-recorded "recorded run 2" "$("$PTUNE" tune --task "$INTENT" -o "$TMP/adapter" \
  --max-steps 8 --eval-every 4 --virtual-tokens 4 --dev-limit 9 --progress lines 2>&1)"
check eval-adapter-recorded "recorded run 3" "$("$PTUNE" eval --task "$INTENT" --limit 45 \
  --adapter "$TMP/adapter" --progress off -o "$TMP/eval3" 2>&1)"

list=$("$PTUNE" runs list)
check list-eval "    1  finished     eval      support-intent" "$list"
check list-tune "    2  finished     tune      support-intent" "$list"
check list-headline "accuracy 0." "$list"
check_not list-filter "eval" "$("$PTUNE" runs list --command tune | tail -n +2)"
show=$("$PTUNE" runs show 2)
check show-steps "steps 8, examples" "$show"
check show-sha "sha256 $(sha256sum "$INTENT" | cut -d' ' -f1)" "$show"
check show-artifact "artifact  adapter  $TMP/adapter/adapter_model.safetensors  sha256 " "$show"
check show-json-prompt '"prompt": ' "$("$PTUNE" runs show 3 --json)"
check show-json-eval-steps '"eval": ' "$("$PTUNE" runs show 2 --json)"
# The same 45 test rows with and without the tuned prompt: a paired test on all of them.
cmp=$("$PTUNE" runs compare 1 3)
check compare-shared "accuracy on 45 shared examples (0 only in A, 0 only in B)" "$cmp"
check compare-test "exact McNemar" "$cmp"
check compare-p ", p = " "$cmp"
check compare-none-shared "share no example" "$("$PTUNE" runs compare 1 2 2>&1)"
check export-csv "46" "$("$PTUNE" runs export 3 --format csv | wc -l)"
check export-csv-header "run,index,source,input,gold,prediction,correct,confidence" \
  "$("$PTUNE" runs export 3 --format csv | head -1)"
check export-jsonl "45" "$("$PTUNE" runs export 3 | wc -l)"
check export-same-as-out "$(head -1 "$TMP/eval3/examples.jsonl" | cut -c1-40)" \
  "$("$PTUNE" runs export 3 | head -1)"

check report "wrote $TMP/report.html (3 runs" "$("$PTUNE" report -o "$TMP/report.html")"
html=$(cat "$TMP/report.html")
check report-metrics 'id="metric-table"' "$html"
check report-curves 'id="learning-curves"' "$html"
check report-confusion 'id="confusion-1"' "$html"
check report-matrix 'id="example-matrix"' "$html"
check_not report-offline 'src="http' "$html"

# A failed run: the error is recorded with the run.
echo '{"format": "ptune-discrete-prompt", "version": 7}' > "$TMP/bad-prompt.json"
"$PTUNE" eval --task "$INTENT" --limit 4 --adapter "$TMP/bad-prompt.json" --progress off \
  >/dev/null 2>&1
check failed-run "failed" "$("$PTUNE" runs list --status failed)"
check failed-error "error     " "$("$PTUNE" runs show 4)"
check failed-error-says-why "version" "$("$PTUNE" runs show 4 | grep '^error')"
# --no-record records nothing; an unusable store fails before the model loads.
"$PTUNE" eval --task "$INTENT" --limit 4 --progress off --no-record >/dev/null 2>&1
check no-record "4" "$("$PTUNE" runs list | tail -n +2 | wc -l)"
mkdir -p "$TMP/notastore"
check bad-store "not a regular file" "$("$PTUNE" eval --task "$INTENT" --runs "$TMP/notastore" 2>&1)"
echo "not sqlite at all, but long enough to be read as a header by sqlite" > "$TMP/junk.db"
check junk-store "is it a ptune run store" "$("$PTUNE" runs list --runs "$TMP/junk.db" 2>&1)"
check missing-run "no run 99 in" "$("$PTUNE" runs show 99 2>&1)"

# kill -9 in the middle of a tune: the store stays readable and the run reads as interrupted,
# with the steps it had committed.
"$PTUNE" tune --task "$INTENT" -o "$TMP/killed" --max-steps 500 --virtual-tokens 4 \
  --dev-limit 2 --progress off >/dev/null 2>&1 &
victim=$!
id=""
deadline=$((SECONDS + 150))  # under a loaded CI machine the first steps can take a while
while ((SECONDS < deadline)); do
  [[ -z "$id" ]] && id=$("$PTUNE" runs list --status running --quiet | head -1)
  # (the show's "steps N, examples M" line; its command line has "--max-steps 500" too)
  [[ -n "$id" ]] && "$PTUNE" runs show "$id" 2>/dev/null | grep -q '^steps [2-9]' && break
  sleep 1
done
kill -9 "$victim"
wait "$victim" 2>/dev/null
check killed-interrupted "    $id  interrupted  tune" "$("$PTUNE" runs list)"
check killed-steps-kept "steps " "$("$PTUNE" runs show "$id" | grep '^steps [1-9]')"
check killed-store-ok "ok" "$(sqlite3 "$PTUNE_RUNS" 'PRAGMA integrity_check' 2>&1)"

check export-empty-out "empty path" "$("$PTUNE" runs export 3 -o "" 2>&1)"
check report-empty-out "empty path" "$("$PTUNE" report -o "" 2>&1)"
check delete "deleted 1 of 1 run(s)" "$("$PTUNE" runs delete 4)"
check delete-gone "no run 4" "$("$PTUNE" runs show 4 2>&1)"
echo "runs: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
