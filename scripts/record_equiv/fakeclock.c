/*
 * fakeclock.c - an LD_PRELOAD clock for record_equiv: clock_gettime returns a
 * deterministic sequence (every call advances the monotonic clock by a
 * pseudo-random 20-5,000 ns, now and then by milliseconds, seconds or minutes), so that two builds
 * running the same workload read the same times and must write the same files.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <time.h>

/* Per thread: a sampler thread of the library reads the clock too, and must
 * not change the main thread's sequence. */
static _Thread_local uint64_t mono = 1000000000ull, calls, rng = 88172645463325252ull;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint64_t advance(void) {
  calls++;
  uint64_t r = next_rand();
  uint64_t step = 20 + r % 5000;
  if (calls % 7 == 0) step += 300000 + r % 2000000;      /* 0.3-2.3 ms: a record with a HI word */
  if (calls % 101 == 0) step = 2047 + (calls / 101) % 3; /* about 2^11 ns: a short unit's */
  if (calls % 1013 == 0) step = 262143 + (calls / 1013) % 3; /* about 2^18 ns: the HI limit */
  if (calls % 4099 == 0) step += 4300000000ull + r % 1000;   /* a gap of 4.3 s: long records */
  if (calls % 9973 == 0) step += 1200000000ull;              /* a wall-clock re-sync */
  if (calls % 30011 == 0) step += 700000000000ull;           /* 700 s: a gap in the side table */
  if (calls % 40009 == 0) step = (0x7ffffull << 18) - 1 + (calls / 40009) % 3; /* its limit */
  mono += step;
  return mono;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  uint64_t t = advance();
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) t += 1700000000000000000ull;
  ts->tv_sec = (time_t)(t / 1000000000ull);
  ts->tv_nsec = (long)(t % 1000000000ull);
  return 0;
}
