#!/bin/sh
# scripts/save_equiv/run.sh - checks that this tree writes the record files
# byte for byte as revision REV did (issue 15, item 6 rewrote the writer).
#
#   scripts/save_equiv/run.sh [REV]     (default REV: main)
#
# 1. builds this tree's static library into $BUILD (default /tmp/pb-save-equiv),
# 2. takes REV's src/record/save.c and jsonout.c (git show) and compiles them
#    against REV's own headers with their symbols renamed old_*,
# 3. links both writers into save_equiv.c and runs it: every snapshot is
#    written by both, the files compared byte for byte.
# REV must have this tree's benchmarker layout (src/record/bench.h and pb__iter in
# internal.h; the 20-byte iteration of 2026-12-07 changed it): the old
# writer reads the same struct. Exit status 0 when every file is equal.
set -eu
REV=${1:-main}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-/tmp/pb-save-equiv}
CC=${CC:-cc}
mkdir -p "$BUILD/old/src" "$BUILD/out"
cmake -S "$ROOT" -B "$BUILD/lib" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPB_BUILD_TESTS=OFF \
  -DPB_BUILD_ANALYSIS=OFF >/dev/null
cmake --build "$BUILD/lib" --target porter_bench_static -j2 >/dev/null
(cd "$ROOT" && git archive "$REV" src/record include) | tar -x -C "$BUILD/old/src"
RENAME=""
for s in pb__bench_write pb__bench_write_free pb__bench_clear_journal pb__json_string \
  pb__json_seconds pb__json_seconds_at pb__json_uint_at pb__json_seconds_signed pb__json_int \
  pb__json_double pb__utf8_seq; do
  RENAME="$RENAME -D$s=old_$s"
done
for f in save jsonout; do
  # shellcheck disable=SC2086
  $CC -O2 -c $RENAME -I"$BUILD/old/src/src/record" -I"$BUILD/old/src/include" \
    "$BUILD/old/src/src/record/$f.c" -o "$BUILD/old_$f.o"
done
$CC -O1 -g -I"$ROOT/src/record" -I"$ROOT/include" "$ROOT/scripts/save_equiv/save_equiv.c" \
  "$BUILD/old_save.o" "$BUILD/old_jsonout.o" "$BUILD/lib/src/record/libporter_bench.a" \
  -lpthread -ldl -lm -o "$BUILD/save_equiv"
rm -rf "$BUILD/out"
"$BUILD/save_equiv" "$BUILD/out"
