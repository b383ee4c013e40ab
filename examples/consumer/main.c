/*
 * consumer/main.c - the smallest program built against an installed porter_bench.
 *
 * Records one iteration of one step into consumer_out/run_*.json, saves it and
 * prints "porter_bench <version> ok" when every call succeeded (exit status 0).
 */
#include <porter_bench.h>
#include <stdio.h>
#include <string.h>

/* Prints which call failed and why, and returns 1. */
static int fail(const char *what, int status) {
  fprintf(stderr, "consumer: %s failed: %s (%s)\n", what, pb_strerror(status), pb_last_error());
  return 1;
}

int main(void) {
  if (strcmp(pb_version(), PB_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: header %s but library %s\n", PB_VERSION_STRING, pb_version());
    return 1;
  }
  pb_bench *b = NULL;
  int rc = pb_bench_create("consumer_out/run", &b);
  if (rc != PB_OK) {
    return fail("pb_bench_create", rc);
  }
  if ((rc = pb_start(b)) != PB_OK || (rc = pb_step(b, "work")) != PB_OK ||
      (rc = pb_gstop(b)) != PB_OK || (rc = pb_save(b)) != PB_OK) {
    pb_bench_destroy(b);
    return fail("recording", rc);
  }
  pb_bench_stats stats;
  rc = pb_bench_get_stats(b, &stats);
  pb_bench_destroy(b);
  if (rc != PB_OK || stats.iterations != 1 || stats.saves != 1) {
    fprintf(stderr, "consumer: unexpected stats (rc %d)\n", rc);
    return 1;
  }
  printf("porter_bench %s ok\n", pb_version());
  return 0;
}
