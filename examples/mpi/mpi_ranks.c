/*
 * mpi_ranks.c - a 4-rank job whose work is deliberately unbalanced, for
 * "porter-bench summary" of a multi-rank run. It needs no MPI library: the
 * recording library learns its rank and job from the launcher's environment.
 *
 *   mpirun -np 4 ./porter_bench_mpi_ranks [ROOT]
 *   porter-bench summary ROOT          (default ROOT: TICTOC_PERFORMANCE)
 *
 * Each of 10 iterations runs "compute" (2 ms, but 30 ms on the last rank)
 * and "exchange" (1 ms on every rank). The work is sleeping, so that the
 * imbalance does not depend on how many cores the ranks share.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <stdio.h>
#include <time.h>

#include "porter_bench.h"

static void work_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(int argc, char **argv) {
  pb_rank_info ri;
  pb_rank_detect(&ri);
  if (argc > 1 && pb_registry_set_default_path(pb_default_registry(), argv[1]) != PB_OK) {
    fprintf(stderr, "mpi_ranks: %s\n", pb_last_error());
    return 1;
  }
  pb_bench *b = pb_get("train");
  if (!b) {
    fprintf(stderr, "mpi_ranks: %s\n", pb_last_error());
    return 1;
  }
  bool slow = ri.world_size > 1 && ri.rank == ri.world_size - 1;
  for (int i = 0; i < 10; i++) {
    pb_gstep(b);
    work_ms(slow ? 30 : 2);
    pb_step(b, "compute");
    work_ms(1);
    pb_step(b, "exchange");
  }
  pb_gstop(b);
  int rc = pb_registry_save(pb_default_registry());
  if (rc != PB_OK) fprintf(stderr, "mpi_ranks: %s\n", pb_last_error());
  return rc == PB_OK ? 0 : 1;
}
