# readme_checks.sh - sourced by readme_install.sh at the end of the README's commands,
# in the user's project folder, with $prefix (the install prefix) and $FLAVOR set.
# Checks what the README promises; any failure ends the session with status 1.
# shellcheck shell=bash disable=SC2154 # prefix comes from the session script
echo "+ checks ($FLAVOR install into $prefix)"
set +o pipefail # grep -q may end a pipe early

check_fail() {
  printf 'readme_checks: FAIL: %b\n' "$*" >&2
  exit 1
}

# The CLI on PATH is the installed one, with a run path relative to itself.
[ "$(command -v porter-bench)" = "$prefix/bin/porter-bench" ] ||
  check_fail "porter-bench on PATH is '$(command -v porter-bench)', not $prefix/bin/porter-bench"
# shellcheck disable=SC2016 # a literal $ORIGIN
readelf -d "$prefix/bin/porter-bench" | grep -E 'R(UN)?PATH' | grep -q '\$ORIGIN/../lib' ||
  check_fail "the installed porter-bench has no \$ORIGIN/../lib run path"
[ -f "$prefix/lib/libporter_bench.a" ] || check_fail "libporter_bench.a was not installed"

# Shared programs load the installed library (no LD_LIBRARY_PATH is set: env -i);
# static ones need none.
[ -z "${LD_LIBRARY_PATH:-}" ] || check_fail "LD_LIBRARY_PATH is set"
for exe in ./app ./app_cpp ./build/app; do
  ldd "$exe" | grep -q "libporter_bench.so.0 => $prefix/lib/libporter_bench.so.0" ||
    check_fail "$exe does not load $prefix/lib/libporter_bench.so.0: $(ldd "$exe" | grep porter)"
done
for exe in ./app_static ./build/app_cpp ./build/charts; do
  if ldd "$exe" | grep -q libporter_bench; then check_fail "$exe is not linked statically"; fi
done

# One run folder per program run, each summarised by the CLI with its steps.
runs=$(find TICTOC_PERFORMANCE -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort)
[ "$(echo "$runs" | wc -l)" -eq 5 ] || check_fail "expected 5 run folders, got: $runs"
n_training=0 n_transform=0
for run in $runs; do
  out=$(porter-bench summary "$run") || check_fail "porter-bench summary $run failed"
  if echo "$out" | grep -q '^training: 10 iterations'; then
    for topic in load forward backward GLOBAL; do
      echo "$out" | grep -Eq "^ +$topic +10 " || check_fail "$run: no '$topic' in:\n$out"
    done
    n_training=$((n_training + 1))
  elif echo "$out" | grep -q '^transform: 5 iterations'; then
    for topic in sqrt sum GLOBAL; do
      echo "$out" | grep -Eq "^ +$topic +5 " || check_fail "$run: no '$topic' in:\n$out"
    done
    n_transform=$((n_transform + 1))
  else
    check_fail "$run: unexpected summary:\n$out"
  fi
done
if [ "$n_training" -ne 3 ] || [ "$n_transform" -ne 2 ]; then
  check_fail "runs: $n_training of app.c (want 3), $n_transform of app.cpp (want 2)"
fi

# Charts from the CLI and from the analysis library.
for png in PLOTS/training_times.png PLOTS/training_bars.png PLOTS/training_crono.png \
  PLOTS/training_memory.png MY_PLOTS/transform_times.png; do
  [ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = '211PNG' ] || check_fail "$png is not a PNG"
done

if [ "$FLAVOR" = root ]; then
  ldconfig -p | grep -q "libporter_bench.so.0 .*=> $prefix/lib/libporter_bench.so.0" ||
    check_fail "ldconfig does not know $prefix/lib/libporter_bench.so.0"
fi
echo "readme_checks: all passed"
