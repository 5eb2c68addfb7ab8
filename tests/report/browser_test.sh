#!/usr/bin/env bash
# browser_test.sh SAMPLE_BIN OUTDIR: draws the sample report (make_sample_report.cpp) in headless
# Chromium, one tab at a time (report.html#<tab>), and checks that the script ran to the end
# (<body data-ready="1">), reported no error (#report-errors empty), printed nothing to the
# console, opened the tab asked for and drew the tab's elements; saves OUTDIR/report-<tab>.png.
# Exits 77 (CTest: skipped) when no Chromium is installed.
set -u
sample_bin=${1:?usage: browser_test.sh SAMPLE_BIN OUTDIR}
outdir=${2:?usage: browser_test.sh SAMPLE_BIN OUTDIR}

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "SKIP: no chromium or chromium-browser on PATH (apt-get install chromium)"
  exit 77
fi
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
report="$outdir/report.html"
"$sample_bin" "$report" || { echo "FAIL: $sample_bin did not write $report"; exit 1; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
failures=0
fail() { echo "FAIL [$tab]: $*"; failures=$((failures + 1)); }

chrome() {  # chrome ARGS... : one headless run with a fresh profile, console on stderr
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

declare -A ids=(
  [overview]="run-table metric-table"
  [training]="learning-curves loss-chart eval-chart"
  [classification]="confusion-1 reliability-1 confusion-2 confusion-5 reliability-5"
  [search]="search-progress"
  [examples]="prompt-diff prompt-a prompt-b example-matrix example-filter example-gold example-search example-count"
)

for tab in overview training classification search examples; do
  url="file://$report#$tab"
  dom="$outdir/dom-$tab.html"
  log="$outdir/console-$tab.log"
  if ! chrome --dump-dom "$url" >"$dom" 2>"$log"; then
    fail "chromium --dump-dom failed (see $log)"
    continue
  fi
  grep -q '<body[^>]*data-ready="1"' "$dom" || fail "the script did not finish (no data-ready=\"1\")"
  if ! grep -q '<pre id="report-errors" hidden=""></pre>' "$dom"; then
    fail "script errors: $(sed -n 's/.*<pre id="report-errors"[^>]*>\([^<]*\).*/\1/p' "$dom" | head -5)"
  fi
  grep -q "class=\"page active\" id=\"page-$tab\"" "$dom" || fail "#$tab did not open its tab"
  for id in ${ids[$tab]}; do
    grep -q "id=\"$id\"" "$dom" || fail "no #$id"
  done
  # Chromium logs every console message as INFO:CONSOLE; the page logs nothing, so any line is
  # an error (uncaught exceptions read "Uncaught ...").
  if grep -E 'CONSOLE|Uncaught' "$log" >"$log.bad"; then
    fail "console output: $(head -5 "$log.bad")"
  fi
  # Markup inside the sample's data stays text: only the page's two <script> elements exist.
  scripts=$(grep -o '<script' "$dom" | wc -l)
  [[ "$scripts" == 2 ]] || fail "$scripts <script> elements (a data string became markup?)"
  chrome --screenshot="$outdir/report-$tab.png" --window-size=1400,1000 "$url" \
    >/dev/null 2>>"$log" || fail "chromium --screenshot failed"
  [[ -s "$outdir/report-$tab.png" ]] || fail "no screenshot"
done

# What only the script draws: the word diff in the prompt panes, the example count, and the
# first task of the matrix (the sample has two) with the other task's rows hidden.
tab=examples
flat=$(tr '\n' ' ' <"$outdir/dom-examples.html")
pane() { grep -oP "id=\"prompt-pane-$1\">.*?</pre>" <<<"$flat"; }
grep -q '<span class="del">' <<<"$(pane a)" || fail "the prompt diff marked no deletion on the left"
grep -q '<span class="ins">' <<<"$(pane b)" || fail "the prompt diff marked no insertion on the right"
grep -q 'id="example-count" class="muted">40 of 40 examples shown<' <<<"$flat" ||
  fail "example count: $(grep -o 'id="example-count"[^<]*' <<<"$flat")"
grep -q '<tr data-task="1"[^>]* hidden=""' <<<"$flat" || fail "the second task's rows are not hidden"

if ((failures > 0)); then
  echo "report.browser: $failures check(s) failed; pages and logs in $outdir"
  exit 1
fi
echo "report.browser: all tabs drew without errors; screenshots in $outdir/report-*.png"
