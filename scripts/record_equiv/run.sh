#!/bin/sh
# scripts/record_equiv/run.sh - checks that this tree records and writes the
# same files as revision REV for the same calls (a change of the in-memory
# stores must not change a byte of a record file).
#
#   scripts/record_equiv/run.sh [REV]     (default REV: main)
#
# Both builds run workload.c under fakeclock.so (LD_PRELOAD: a deterministic
# clock_gettime), so they read the same times; the DATA, SUMMARY and journal
# files must then be equal byte for byte (MEMORY files hold RSS values, which
# differ from run to run, and are not compared). Exit status 0 when equal.
set -eu
REV=${1:-main}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-/tmp/pb-record-equiv}
CC=${CC:-cc}
HERE="$ROOT/scripts/record_equiv"
mkdir -p "$BUILD"
rm -rf "$BUILD/old" "$BUILD/out-old" "$BUILD/out-new"
# The old tree is a temporary worktree: removed however the script ends.
trap 'git -C "$ROOT" worktree remove --force "$BUILD/old" >/dev/null 2>&1 || true' EXIT
git -C "$ROOT" worktree add -f --detach "$BUILD/old" "$REV" >/dev/null 2>&1 ||
  { mkdir -p "$BUILD/old" && git -C "$ROOT" archive "$REV" | tar -x -C "$BUILD/old"; }
for side in old new; do
  src=$ROOT
  [ "$side" = old ] && src=$BUILD/old
  cmake -S "$src" -B "$BUILD/lib-$side" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPB_BUILD_TESTS=OFF \
    -DPB_BUILD_ANALYSIS=OFF >/dev/null
  cmake --build "$BUILD/lib-$side" --target porter_bench_static -j2 >/dev/null
  $CC -O1 -g -I"$src/include" "$HERE/workload.c" "$BUILD/lib-$side/src/record/libporter_bench.a" \
    -lpthread -ldl -lm -o "$BUILD/workload-$side"
done
$CC -O2 -shared -fPIC "$HERE/fakeclock.c" -o "$BUILD/fakeclock.so"
for side in old new; do
  mkdir -p "$BUILD/out-$side"
  LD_PRELOAD="$BUILD/fakeclock.so" PORTER_BENCH_OWNER_LOCK=off "$BUILD/workload-$side" \
    "$BUILD/out-$side"
done
n=0
bad=0
for f in $(cd "$BUILD/out-old" && find . -type f ! -name '*_MEMORY*' | sort); do
  n=$((n + 1))
  if ! cmp -s "$BUILD/out-old/$f" "$BUILD/out-new/$f"; then
    echo "DIFF $f"
    cmp "$BUILD/out-old/$f" "$BUILD/out-new/$f" || true
    bad=$((bad + 1))
  fi
done
extra=$(cd "$BUILD/out-new" && find . -type f ! -name '*_MEMORY*' | wc -l)
[ "$extra" -eq "$n" ] || { echo "file counts differ: $n old, $extra new"; bad=$((bad + 1)); }
echo "$n files compared, $bad different"
[ "$bad" -eq 0 ]
