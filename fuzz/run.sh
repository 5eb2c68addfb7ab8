#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/CMakeLists.txt: clang, ASan + UBSan, no libtorch) and runs
# one or all of them.
#   fuzz/run.sh [seconds] [target]   seconds default 60; target one of TARGETS (default gguf)
#   fuzz/run.sh [seconds] all        every target for `seconds` each, one after another (CI
#                                    runs this briefly as the fuzz.smoke test)
# The build and each target's working corpus live in $PTUNE_FUZZ_WORK (default fuzz/work,
# ignored): corpus_<target>/, gguf's in corpus/. The committed seeds in fuzz/corpus/<target>/
# are only read. Findings (<target>-crash-*, -leak-*, -timeout-*, -oom-*) land in fuzz/ and
# fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
TARGET="${2:-gguf}"
TARGETS=(gguf safetensors task data template peft_config checkpoint tokenizer api_request
         api_response journal)
WORK_ROOT=${PTUNE_FUZZ_WORK:-fuzz/work}
BUILD=$WORK_ROOT/build

if [[ "$TARGET" != all && ! " ${TARGETS[*]} " =~ " $TARGET " ]]; then
  echo "unknown target '$TARGET' (one of: ${TARGETS[*]}, or all)" >&2
  exit 2
fi
mkdir -p "$WORK_ROOT"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S fuzz -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="${CXX:-clang++-14}" >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" >"$WORK_ROOT/build.log" 2>&1 || {
  cat "$WORK_ROOT/build.log" >&2
  exit 1
}

run_one() {  # run_one TARGET: fuzz it for SECONDS_TO_RUN seconds
  local t=$1 work=$WORK_ROOT/corpus_$1
  [[ "$t" == gguf ]] && work=$WORK_ROOT/corpus  # the GGUF corpus keeps its original place
  local extra=()
  [[ -f "fuzz/$t.dict" ]] && extra+=("-dict=fuzz/$t.dict")
  mkdir -p "$work"
  echo "== fuzz $t for ${SECONDS_TO_RUN}s"
  # New inputs go to the first corpus dir (work/); the committed seeds are only read.
  "$BUILD/${t}_fuzz" "$work" "fuzz/corpus/$t" "${extra[@]}" -max_len=65536 \
    -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/${t}-"
}

if [[ "$TARGET" == all ]]; then
  for t in "${TARGETS[@]}"; do run_one "$t"; done
else
  run_one "$TARGET"
fi
