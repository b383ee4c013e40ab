/*
 * workload.c - record_equiv's workload: every path that writes records
 * (steps, steps after gstop, pb_start on an open iteration, unknown topic
 * ids, extras, long gaps from the fake clock, memory tracking switched on and
 * off, auto-saves into the journal, explicit saves with an open iteration),
 * on several benchmarkers. Benchmarker "j" is left as it is at exit (not
 * destroyed), so that its journal files stay. Usage: workload OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "porter_bench.h"

static pb_bench *make(const char *dir, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  pb_bench *b = NULL;
  if (pb_bench_create(p, &b) != PB_OK) {
    fprintf(stderr, "create: %s\n", pb_last_error());
    exit(2);
  }
  return b;
}

static const char *T[] = {"load", "forward", "backward", "update", "log", "gstop"};

static void plain(pb_bench *b, int iters, unsigned seed) {
  for (int i = 0; i < iters; i++) {
    pb_gstep(b);
    seed = seed * 1103515245u + 12345u;
    int n = (int)(seed >> 16) % 7;
    for (int k = 0; k < n; k++) pb_step(b, T[(seed >> (k + 3)) % 5]);
    if (i % 97 == 5) pb_step(b, T[5]);       /* a user step named like gstop */
    if (i % 13 == 3) pb_step_id(b, 999999u); /* unknown id: a lost gap */
    if (i % 17 == 4) pb_start(b);            /* restarts the clocks */
    if (i % 19 == 6) pb_step_ex(b, "extra", "{\"k\":1}", NULL);
    if (i % 23 == 7) { /* gstop, then steps after it */
      pb_gstop(b);
      pb_step(b, "after");
      if (i % 46 == 7) pb_step(b, "after2");
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *dir = argv[1];
  pb_bench *a = make(dir, "a");
  plain(a, 3000, 1);
  pb_gstop(a);
  pb_save(a);
  pb_bench *c = make(dir, "c"); /* auto-save into the journal */
  pb_set_save_on_gstop(c, 50);
  plain(c, 20000, 7);
  pb_save(c);
  pb_bench *m = make(dir, "m"); /* memory tracking on and off */
  for (int r = 0; r < 6; r++) {
    if (r % 2 == 0) pb_enable_memory_tracking(m, r == 2);
    plain(m, 200, 11u + (unsigned)r);
    if (r % 2 == 0) pb_disable_memory_tracking(m);
  }
  pb_save(m);
  pb_bench *st = make(dir, "s"); /* a save after every step */
  pb_set_save_on_step(st, true);
  plain(st, 300, 3);
  pb_set_save_on_step(st, false);
  pb_save(st);
  pb_bench_destroy(st);
  pb_bench *w = make(dir, "w"); /* 40,000 topics: ids past 16 bits */
  char name[32];
  for (int i = 0; i < 12; i++) {
    pb_gstep(w);
    for (int k = 0; k < 40000; k += 1 + i) {
      snprintf(name, sizeof name, "t%05d", k);
      pb_step(w, name);
    }
    if (i % 3 == 1) pb_step_ex(w, "t39999", "[1,2]", NULL); /* a wide id with an extra */
  }
  pb_gstop(w);
  pb_save(w);
  pb_bench_destroy(w);
  pb_bench *g = make(dir, "g"); /* gstep + gstop, nothing between; open at save */
  for (int i = 0; i < 5000; i++) {
    pb_gstep(g);
    pb_gstop(g);
  }
  pb_gstep(g);
  pb_step(g, "load");
  pb_save(g);
  pb_bench *j = make(dir, "j"); /* left with its journal: never saved in full at the end */
  pb_set_save_on_gstop(j, 40);
  plain(j, 30000, 5);
  pb_bench_destroy(a);
  pb_bench_destroy(c);
  pb_bench_destroy(m);
  pb_bench_destroy(g);
  return 0;
}
