/*
 * bench_disabled.c - the compile-time-disabled path. This file is compiled
 * with -DPB_DISABLE (see bench/CMakeLists.txt), so PB_STEP expands to
 * ((void)0): no call, no argument evaluated. The build checks with nm that
 * this object references no pb_* symbol, and the benchmark checks that the
 * arguments were never evaluated and that the loop costs what an empty one does.
 */
#ifndef PB_DISABLE
#error "bench_disabled.c must be compiled with -DPB_DISABLE"
#endif
#include "bench_util.h"

static unsigned evaluations;

uint64_t pbb_disabled_steps(pb_bench *b, size_t n) {
  (void)b; /* PB_STEP drops its arguments: b is otherwise unused */
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < n; i++) {
    PB_STEP(b, (evaluations++, "disabled"));
    PBB_BARRIER();
  }
  return pbb_now() - t0;
}

uint64_t pbb_disabled_empty(size_t n) {
  uint64_t t0 = pbb_now();
  for (size_t i = 0; i < n; i++) {
    PBB_BARRIER();
  }
  return pbb_now() - t0;
}

unsigned pbb_disabled_evaluations(void) { return evaluations; }
