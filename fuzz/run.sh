#!/usr/bin/env bash
# Builds a fuzzer straight from the src/io sources (no CMake, no libtorch) and runs it.
#   fuzz/run.sh [seconds] [target]   seconds default 60; target gguf (default) or safetensors
# The working corpus grows in fuzz/work/ (ignored); findings (crash-*, leak-*, timeout-*) land
# in fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
TARGET="${2:-gguf}"
CXX="${CXX:-clang++-14}"
case "$TARGET" in
  gguf)
    WORK=fuzz/work/corpus  # the GGUF corpus keeps its original place
    EXTRA=(-dict=fuzz/gguf.dict) ;;
  safetensors)
    WORK=fuzz/work/corpus_safetensors
    EXTRA=() ;;
  *) echo "unknown target '$TARGET' (gguf or safetensors)" >&2; exit 2 ;;
esac
mkdir -p "$WORK"
"$CXX" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude -Isrc/io "fuzz/${TARGET}_fuzz.cpp" src/io/*.cpp -o "fuzz/work/${TARGET}_fuzz"
# New inputs go to the first corpus dir (work/); the committed seeds are only read.
exec "fuzz/work/${TARGET}_fuzz" "$WORK" "fuzz/corpus/$TARGET" \
  "${EXTRA[@]}" -max_len=65536 -max_total_time="$SECONDS_TO_RUN" \
  -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix=fuzz/
