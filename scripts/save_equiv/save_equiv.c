/*
 * save_equiv.c - the record writer of another revision (its save.c and
 * jsonout.c, compiled with their symbols renamed old_*) and this tree's write
 * the same snapshots; the files must be equal byte for byte (run.sh beside it
 * builds and runs it; issue 15, item 6 rewrote the writer for speed).
 *
 * The snapshots cover what the public API records (topics used twice in an
 * iteration, steps after gstop, open iterations, extras, memory records,
 * 70,000 topics for the summary's batches, names that need escaping or a
 * "~<id>" suffix) and what it records only after seconds of waiting, injected
 * into the stores directly: gaps and GLOBAL times of 4.29 s or more, leads of
 * GLOBAL over START_TIME, negative start times, per-iteration sums beyond 32
 * bits. Full files and journal lines are compared, and the digit writers on
 * 10^8 values and edge cases. Exit status 0 when all are equal.
 *
 * Usage: save_equiv OUTDIR
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bench.h"

static const char *outdir;

int old_pb__bench_write(pb_bench *b, pb__write_req *req);
void old_pb__bench_write_free(pb_bench *b);
char *old_pb__json_seconds_at(char *q, uint64_t ns);
char *old_pb__json_uint_at(char *q, uint64_t v);

static int fails = 0;
static char *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  if (!f) {
    *n = (size_t)-1;
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long l = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(l + 1);
  *n = fread(b, 1, l, f);
  fclose(f);
  return b;
}
static const char *sfx[] = {"_STEP_DICT_DATA.json", "_STEP_DICT_SUMMARY.json", "_MEMORY.json",
                            "_STEP_DICT_DATA.journal", "_MEMORY.journal"};
static void compare(const char *name, const char *a, const char *b) {
  for (int k = 0; k < 5; k++) {
    char pa[600], pb[600];
    size_t na, nb;
    snprintf(pa, sizeof pa, "%s%s", a, sfx[k]);
    snprintf(pb, sizeof pb, "%s%s", b, sfx[k]);
    char *x = slurp(pa, &na), *y = slurp(pb, &nb);
    if (na != nb || (x && memcmp(x, y, na))) {
      size_t i = 0;
      while (x && y && i < na && i < nb && x[i] == y[i]) i++;
      printf("DIFF %s %s: sizes %zd %zd at %zu\n  old: %.80s\n  new: %.80s\n", name, sfx[k],
             (ssize_t)na, (ssize_t)nb, i, x ? x + (i > 20 ? i - 20 : 0) : "",
             y ? y + (i > 20 ? i - 20 : 0) : "");
      fails++;
    }
    free(x);
    free(y);
  }
}
/* Writes with both writers (full files, or a journal line from `from`) and compares. */
static void both(pb_bench *b, const char *name, size_t from, bool with_open, pb__tail tail) {
  char *orig = b->path;
  char pa[512], pn[512];
  snprintf(pa, sizeof pa, "%s/%s_old", outdir, name);
  snprintf(pn, sizeof pn, "%s/%s_new", outdir, name);
  pb__write_req r1 = {.from = from, .with_open = with_open, .tail = tail}, r2 = r1;
  b->path = pa;
  int rc1 = old_pb__bench_write(b, &r1);
  old_pb__bench_write_free(b);
  b->path = pn;
  int rc2 = pb__bench_write(b, &r2);
  pb__bench_write_free(b);
  b->path = orig;
  if (rc1 != rc2 || r1.covered != r2.covered || r1.wrote_open != r2.wrote_open ||
      memcmp(&r1.new_tail, &r2.new_tail, sizeof r1.new_tail)) {
    printf("DIFF %s: rc/req %d %d\n", name, rc1, rc2);
    fails++;
  }
  compare(name, pa, pn);
}
static void push_side(pb__segvec *v, uint64_t k, uint64_t val) {
  pb__recx *e = pb__segvec_push(v);
  e->rec = k;
  e->val = val;
}

static void create(pb_bench **b, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", outdir, name);
  if (pb_bench_create(p, b) != PB_OK) {
    fprintf(stderr, "save_equiv: %s\n", pb_last_error());
    exit(2);
  }
}

static void numbers(void) {
  char a[64], b[64];
  uint64_t vals[] = {0,
                     1,
                     9,
                     10,
                     99,
                     100,
                     999999999,
                     1000000000,
                     1000000001,
                     4294967295u,
                     4294967296u,
                     99999999,
                     100000000,
                     9999999999999999ull,
                     10000000000000000ull,
                     UINT64_MAX,
                     UINT64_MAX - 1,
                     1796652125586309901ull,
                     12345678901234567ull};
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
    for (int d = -3; d <= 3; d++) {
      uint64_t v = vals[i] + (uint64_t)(int64_t)d;
      memset(a, 0, 64);
      memset(b, 0, 64);
      char *ea = old_pb__json_seconds_at(a, v), *eb = pb__json_seconds_at(b, v);
      if (ea - a != eb - b || memcmp(a, b, ea - a)) {
        printf("DIFF secs %llu: %.*s %.*s\n", (unsigned long long)v, (int)(ea - a), a,
               (int)(eb - b), b);
        fails++;
      }
      ea = old_pb__json_uint_at(a, v), eb = pb__json_uint_at(b, v);
      if (ea - a != eb - b || memcmp(a, b, ea - a)) {
        printf("DIFF uint %llu\n", (unsigned long long)v);
        fails++;
      }
    }
  /* every fraction below 2^27 and a sweep with a stride */
  uint64_t x = 88172645463325252ull;
  for (uint64_t v = 0; v < 200000000ull; v += (v < (1u << 24) ? 1 : 997)) {
    for (int r = 0; r < 2; r++) {
      uint64_t w = r ? (x ^= x << 13, x ^= x >> 7, x ^= x << 17) : v;
      if (r && (v & 7)) continue;
      char *ea = old_pb__json_seconds_at(a, w), *eb = pb__json_seconds_at(b, w);
      if (ea - a != eb - b || memcmp(a, b, ea - a)) {
        if (fails++ < 10) printf("DIFF secs %llu\n", (unsigned long long)w);
      }
      ea = old_pb__json_uint_at(a, w), eb = pb__json_uint_at(b, w);
      if (ea - a != eb - b || memcmp(a, b, ea - a)) {
        if (fails++ < 10) printf("DIFF uint %llu\n", (unsigned long long)w);
      }
    }
  }
  printf("numbers done\n");
}

static const char *names[] = {"load",
                              "forward",
                              "backward",
                              "update",
                              "log",
                              "GLOBAL",
                              "a\"b\\c",
                              "ctl\x01\x1f",
                              "bad\xff\xfeutf",
                              "bad\xfd\xfcutf",
                              "ok\xc3\xa9",
                              "GLOBAL~5",
                              "a-very-long-topic-name-that-is-more-than-thirty-two-bytes-long",
                              "x",
                              "",
                              "tab\tx",
                              "gstop"};

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: save_equiv OUTDIR\n");
    return 2;
  }
  outdir = argv[1];
  mkdir(outdir, 0777);
  numbers();
  pb_bench *b;
  /* 1: standard plus every kind of name, duplicates in iterations, steps after gstop, open last */
  create(&b, "x1");
  for (int i = 0; i < 3000; i++) {
    pb_gstep(b);
    int nn = 1 + i % 7;
    for (int k = 0; k < nn; k++) pb_step(b, names[(i * 3 + k * (i % 5 + 1)) % 17]);
    if (i % 11 == 0) pb_step_ex(b, "withextra", i % 2 ? "{\"k\":[1,2,3]}" : "42", NULL);
    if (i % 13 == 0) {
      pb_gstop(b);
      pb_step(b, "after");
    }
  }
  both(b, "open_full", PB__FULL, true, (pb__tail){0});
  both(b, "closed_full", PB__FULL, false, (pb__tail){0});
  both(b, "journal", 1000, false, (pb__tail){0});
  pb__tail t = {.valid = true, .iter = 1500, .recs_end = 0, .mrecs_end = 0};
  both(b, "journal_tail", 1700, false, t);
  pb_gstop(b);
  both(b, "closed_all", PB__FULL, true, (pb__tail){0});
  /* inject long gaps, extras, wide GLOBALs, leads, negative and huge start times */
  pb__spin_lock(&b->lock);
  for (uint64_t k = 5; k < b->recs.n; k += 997) {
    pb__rec *r = pb__segvec_at(&b->recs, k);
    if (r->ns == PB__REC_LONG || (r->topic & PB__REC_EXTRA)) continue;
    r->ns = PB__REC_LONG;
    push_side(&b->longs, k, 4294967295ull + k * 1000003ull);
  }
  for (uint64_t i = 3; i + 1 < b->iters.n; i += 101) {
    pb__iter *it = pb__segvec_at(&b->iters, i);
    it->global_ns = PB__REC_LONG;
    push_side(&b->iwide, i, 5000000000ull + i);
  }
  for (uint64_t i = 7; i + 1 < b->iters.n; i += 53) push_side(&b->ilead, i, i * 12345);
  ((pb__iter *)pb__segvec_at(&b->iters, 10))->start_wall_ns = -1234567890123ll;
  ((pb__iter *)pb__segvec_at(&b->iters, 11))->start_wall_ns = 0;
  ((pb__iter *)pb__segvec_at(&b->iters, 12))->start_wall_ns = -5;
  pb__spin_unlock(&b->lock);
  both(b, "wide_full", PB__FULL, true, (pb__tail){0});
  both(b, "wide_journal", 700, false, (pb__tail){0});
  pb_bench_destroy(b);

  /* 2: memory tracking */
  create(&b, "x2");
  pb_enable_memory_tracking(b, true);
  for (int i = 0; i < 300; i++) {
    pb_gstep(b);
    pb_step(b, "m1");
    pb_step_ex(b, "m2", NULL, i % 3 ? "{\"mem\":1}" : NULL);
    if (i % 4 == 0) pb_step(b, "m1");
    pb_gstop(b);
    if (i == 150) pb_enable_memory_tracking(b, false);
    if (i == 200) pb_enable_memory_tracking(b, true);
  }
  pb_gstep(b);
  pb_step(b, "m1");
  both(b, "mem_full", PB__FULL, true, (pb__tail){0});
  both(b, "mem_closed", PB__FULL, false, (pb__tail){0});
  both(b, "mem_journal", 100, false, (pb__tail){0});
  pb_bench_destroy(b);

  /* 3: empty, one open, many topics (summary batches) */
  create(&b, "x3");
  both(b, "empty", PB__FULL, true, (pb__tail){0});
  pb_gstep(b);
  both(b, "one_open", PB__FULL, true, (pb__tail){0});
  both(b, "one_open_closed", PB__FULL, false, (pb__tail){0});
  pb_gstop(b);
  both(b, "one_closed", PB__FULL, true, (pb__tail){0});
  char nm[32];
  for (int i = 0; i < 70000; i++) {
    pb_gstep(b);
    snprintf(nm, sizeof nm, "t%d", i);
    pb_step(b, nm);
    snprintf(nm, sizeof nm, "t%d", i / 3);
    pb_step(b, nm);
    pb_step(b, "common");
    if (i % 1000 == 0)
      for (int k = 0; k < 300; k++) pb_step(b, "common");
    pb_gstop(b);
  }
  both(b, "many_topics", PB__FULL, true, (pb__tail){0});
  /* summary wide: topic sums over 4.29 s without long records */
  pb__spin_lock(&b->lock);
  for (uint64_t k = 0; k < b->recs.n; k++) {
    pb__rec *r = pb__segvec_at(&b->recs, k);
    if (r->ns != PB__REC_LONG) r->ns = 4000000000u - (uint32_t)(k % 1000);
  }
  pb__spin_unlock(&b->lock);
  both(b, "sum_wide", PB__FULL, true, (pb__tail){0});
  pb_bench_destroy(b);
  /* 4: flat (each topic once an iteration), long gaps and extras injected */
  create(&b, "x4");
  for (int i = 0; i < 5000; i++) {
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, names[k]);
  }
  pb_gstop(b);
  both(b, "flat", PB__FULL, true, (pb__tail){0});
  pb__spin_lock(&b->lock);
  for (uint64_t k = 3; k < b->recs.n; k += 331) {
    pb__rec *r = pb__segvec_at(&b->recs, k);
    r->ns = PB__REC_LONG;
    push_side(&b->longs, k, 4294967295ull + k * 7777);
  }
  pb__spin_unlock(&b->lock);
  both(b, "flat_long", PB__FULL, true, (pb__tail){0});
  both(b, "flat_long_journal", 2500, false, (pb__tail){0});
  pb_bench_destroy(b);
  create(&b, "x5");
  for (int i = 0; i < 5000; i++) {
    pb_gstep(b);
    for (int k = 0; k < 5; k++) pb_step(b, names[k]);
  }
  pb_gstop(b);
  pb__spin_lock(&b->lock);
  for (uint64_t k = 3; k < b->recs.n; k += 331) {
    pb__rec *r = pb__segvec_at(&b->recs, k);
    r->ns = PB__REC_LONG;
    push_side(&b->longs, k, 4000000 + k);
  }
  pb__spin_unlock(&b->lock);
  both(b, "flat_long_narrow", PB__FULL, true, (pb__tail){0});
  pb_bench_destroy(b);
  printf("%s (%d)\n", fails ? "FAILED" : "all equal", fails);
  return fails != 0;
}
