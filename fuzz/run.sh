#!/usr/bin/env bash
# Builds the GGUF fuzzer straight from the src/io sources (no CMake, no libtorch) and runs it.
#   fuzz/run.sh [seconds]        default 60; the working corpus grows in fuzz/work/ (ignored)
# Findings (crash-*, leak-*, timeout-*) land in fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
CXX="${CXX:-clang++-14}"
mkdir -p fuzz/work/corpus
"$CXX" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Iinclude -Isrc/io fuzz/gguf_fuzz.cpp src/io/*.cpp -o fuzz/work/gguf_fuzz
# New inputs go to the first corpus dir (work/); the committed seeds are only read.
exec fuzz/work/gguf_fuzz fuzz/work/corpus fuzz/corpus/gguf \
  -dict=fuzz/gguf.dict -max_len=65536 -max_total_time="$SECONDS_TO_RUN" \
  -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix=fuzz/
