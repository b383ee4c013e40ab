#!/usr/bin/env bash
# fuzz/run.sh - build the fuzz targets with clang (libFuzzer + ASan + UBSan, the
# libraries instrumented for coverage) and run each for a fixed time.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS  time per target (default 60; CI runs at least 60)
#   TARGET   fuzz_extra, fuzz_roundtrip, fuzz_loader (default: all that were built)
# Environment: BUILD_DIR (default build-fuzz), JOBS (default 2), CC/CXX (default clang/clang++),
#   PB_FUZZ_STRICT (default 1): 0 tolerates the known, fixed findings REL-F5 (numbers beyond
#   jansson's range) and REL-F10 (valid doubles >= 1e308 refused), e.g. to fuzz an old version.
#
# Each target starts from the committed seeds (fuzz/corpus/<target>/) plus what earlier
# runs found (BUILD_DIR/fuzz/corpus/<target>/, kept between runs); crashes are saved as
# BUILD_DIR/fuzz/artifacts/<target>-crash-*. Prints one line per target with the
# executions run, and exits non-zero if any target found a crash, leak or timeout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET="${1:-60}"
shift || true
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-2}"
CC="${CC:-clang}"
CXX="${CXX:-clang++}"

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "fuzz/run.sh: $CC not found (apt-get install clang)" >&2
  exit 1
fi

cov="-fsanitize=fuzzer-no-link"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$cov" -DCMAKE_CXX_FLAGS="$cov" \
  -DPB_SANITIZE=address -DPB_BUILD_FUZZ=ON -DPB_BUILD_TESTS=ON \
  -DPB_BUILD_EXAMPLES=OFF -DPB_BUILD_BENCH=OFF >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in fuzz_extra fuzz_roundtrip fuzz_loader; do
    [ -f "fuzz/$t.c" ] && targets+=("$t")
  done
fi
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}" >/dev/null

export PB_FUZZ_STRICT="${PB_FUZZ_STRICT:-1}"
[ "$PB_FUZZ_STRICT" = 0 ] && unset PB_FUZZ_STRICT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0
total=0
for t in "${targets[@]}"; do
  exe="$BUILD_DIR/fuzz/$t"
  if [ ! -x "$exe" ]; then
    echo "fuzz/run.sh: $exe not built (is the analysis library enabled?)" >&2
    status=1
    continue
  fi
  work="$BUILD_DIR/fuzz/corpus/$t"
  art="$BUILD_DIR/fuzz/artifacts"
  mkdir -p "$work" "$art"
  log="$BUILD_DIR/fuzz/$t.log"
  set +e
  "$exe" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$art/$t-" "$work" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs="${execs:-0}"
  total=$((total + execs))
  known=$(grep -c "REL-F" "$log" || true)
  if [ $rc -ne 0 ]; then
    status=1
    echo "$t: FAILED after $execs executions (exit $rc); see $log and $art/"
    grep -m3 -E "FUZZ-DEFECT|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" "$log" || true
  else
    echo "$t: $execs executions in ${SECONDS_PER_TARGET}s, no crash (corpus: $(ls "$work" | wc -l) inputs)"
  fi
done
echo "fuzz/run.sh: $total executions in total"
exit $status
