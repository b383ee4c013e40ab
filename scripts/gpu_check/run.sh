#!/bin/sh
# scripts/gpu_check/run.sh - the GPU check of porter_bench (docs/GPU.md).
#
# On a machine with an NVIDIA GPU, driver and CUDA runtime (no nvcc needed):
#   1. builds the recording library (CMake, Release) into $BUILD,
#   2. builds gpu_check.c against it and runs it: 1 GiB cudaMalloc/cudaFree seen
#      in the recorded process memory, the peak of an allocation freed between
#      records, a step launching long asynchronous cudaMemsets charged its real
#      time with synchronisation on, the cost of one GPU memory probe,
#   3. runs tests/gpu/test_gpu_real.c (the probe against the real driver) and
#      the GPU demo (examples/gpu),
#   4. prints the result table and writes it, the log and the demo's records
#      to $OUT (default: $BUILD/out).
# Exit status: 0 when every check passes, 1 when one fails, 77 without a GPU.
#
# Environment: OUT, BUILD (default /tmp/pb-gpu-check), CUDART_LIBRARY (path of
# libcudart.so.N; found with ldconfig or under /usr/local/cuda otherwise), CC.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-/tmp/pb-gpu-check}
OUT=${OUT:-$BUILD/out}
CC=${CC:-cc}
mkdir -p "$BUILD" "$OUT"
LOG="$OUT/gpu_check.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
run() { "$@" >>"$LOG" 2>&1; }

say "== porter_bench GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv 2>&1 | tee -a "$LOG"
fi

# --- the driver's NVML: normally found by its soname; else point the test hook at it ---
if [ -z "${PB_NVML_LIBRARY+x}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1'; then
  f=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local -name 'libnvidia-ml.so.1' 2>/dev/null | head -n 1)
  if [ -n "$f" ]; then
    export PB_NVML_LIBRARY="$f"
    say "libnvidia-ml.so.1 is not in the loader's cache: using $f (PB_NVML_LIBRARY)"
  fi
fi

# --- the CUDA runtime the check programs open (the library never does) ---
if [ -z "${CUDART_LIBRARY:-}" ]; then
  CUDART_LIBRARY=$(ldconfig -p 2>/dev/null | awk '/libcudart\.so/ {print $NF; exit}')
fi
if [ -z "${CUDART_LIBRARY:-}" ]; then
  for f in /usr/local/cuda/lib64/libcudart.so* /usr/local/cuda/targets/*/lib/libcudart.so* \
    /usr/local/cuda*/lib64/libcudart.so*; do
    [ -f "$f" ] && CUDART_LIBRARY=$f && break
  done
fi
if [ -z "${CUDART_LIBRARY:-}" ]; then
  CUDART_LIBRARY=$(find /usr /opt -name 'libcudart.so*' -type f 2>/dev/null | head -n 1)
fi
export CUDART_LIBRARY
say "CUDA runtime: ${CUDART_LIBRARY:-none found}"

# --- build the recording library ---
PUBLIC=1
LIB=""
if run cmake -S "$ROOT" -B "$BUILD/lib" -DCMAKE_BUILD_TYPE=Release -DPB_BUILD_TESTS=OFF \
  -DPB_BUILD_ANALYSIS=OFF -DPB_BUILD_BENCH=OFF -DPB_BUILD_EXAMPLES=OFF &&
  run cmake --build "$BUILD/lib" -j 8 --target porter_bench_static; then
  LIB=$(find "$BUILD/lib" -name 'libporter_bench.a' | head -n 1)
fi
if [ -z "$LIB" ]; then
  say "WARNING: the recording library did not build (see $LOG): checking the probe alone"
  PUBLIC=0
fi

CFLAGS="-std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE -DPB_STATIC -I$ROOT/include -I$ROOT/src/record"
if [ "$PUBLIC" = 1 ]; then
  SRC="$ROOT/scripts/gpu_check/gpu_check.c"
  run $CC $CFLAGS -DPB_CHECK_PUBLIC=1 -o "$BUILD/gpu_check" "$SRC" "$LIB" -ldl -lpthread -lm ||
    PUBLIC=0
fi
if [ "$PUBLIC" = 0 ]; then
  run $CC $CFLAGS -o "$BUILD/gpu_check" "$ROOT/scripts/gpu_check/gpu_check.c" \
    "$ROOT/src/record/gpu_nvml.c" -ldl -lpthread -lm || { say "gpu_check did not build"; exit 1; }
fi

# --- the probe against the real driver (no CUDA call: must see no context) ---
say "== tests/gpu/test_gpu_real"
if run $CC $CFLAGS -o "$BUILD/test_gpu_real" "$ROOT/tests/gpu/test_gpu_real.c" \
  "$ROOT/src/record/gpu_nvml.c" -ldl -lpthread; then
  "$BUILD/test_gpu_real" >"$BUILD/test_gpu_real.out" 2>&1
  rc=$?
  tee -a "$LOG" <"$BUILD/test_gpu_real.out"
  say "test_gpu_real exit status: $rc (77: skipped)"
fi

# --- the checks ---
say "== gpu_check"
"$BUILD/gpu_check" "$OUT" >"$BUILD/gpu_check.out" 2>&1
STATUS=$?
tee -a "$LOG" <"$BUILD/gpu_check.out"

# --- the demo ---
if [ "$STATUS" != 77 ] && [ -n "$LIB" ]; then
  say "== examples/gpu (porter_bench_gpu_demo)"
  if run $CC $CFLAGS -o "$BUILD/gpu_demo" "$ROOT/examples/gpu/gpu_demo.c" "$LIB" -ldl -lpthread -lm; then
    rm -rf "$BUILD/demo" && mkdir -p "$BUILD/demo"
    (cd "$BUILD/demo" && PORTER_BENCH_ROOT="$BUILD/demo/records" "$BUILD/gpu_demo") 2>&1 | tee -a "$LOG"
    for f in "$BUILD"/demo/records/*/gpu_demo_MEMORY.json "$BUILD"/demo/records/*/gpu_demo_STEP_DICT_SUMMARY.json; do
      [ -f "$f" ] && cp "$f" "$OUT/demo_$(basename "$f")"
    done
  fi
fi
say "== done: status $STATUS; table in $OUT/gpu_check.md"
exit "$STATUS"
