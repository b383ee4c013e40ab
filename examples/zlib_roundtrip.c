/*
 * zlib_roundtrip.c - a real program instrumented with porter_bench: zlib
 * round trips, the scenario of issue 9.
 *
 *   porter_bench_zlib_roundtrip ITERATIONS ROOT
 *
 * One benchmarker "zlib" with per-step memory tracking records ITERATIONS
 * round trips of four steps over a 64 KiB buffer:
 *   prepare     fills the buffer with compressible text
 *   compress    compress2() at level 6; in every 100th iteration (99, 199,
 *               ...) it also allocates 150 MiB, touches every byte (memset)
 *               and frees it, so the step's memory record has a peak of
 *               about RSS + 150 MiB while its RSS is back to the baseline
 *   decompress  uncompress() into a second buffer
 *   verify      memcmp() of the round trip against the original
 * The records are saved through a registry rooted at ROOT, in
 * ROOT/<timestamp>/zlib_*.json, and the run folder is printed on stdout.
 * The peak mode is the library's default (sampled) unless the environment
 * says PORTER_BENCH_PEAK=reset (docs/RECORDING.md, "Peak modes").
 * Exit status: 0, 1 on any failure (reported on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <porter_bench.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BUF_SIZE (64u * 1024u)
#define SPIKE_SIZE ((size_t)150 * 1024 * 1024)
#define SPIKE_EVERY 100

/* The buffers of one round trip, allocated once. */
typedef struct roundtrip {
  unsigned char *src;  /* what is compressed, BUF_SIZE bytes */
  unsigned char *comp; /* the compressed bytes, comp_cap room */
  unsigned char *back; /* the decompressed bytes, BUF_SIZE room */
  uLongf comp_cap;
  uLongf comp_len;
} roundtrip;

/* Reports a failed porter_bench call on stderr; returns 1 when it failed. */
static int check(int status, const char *what) {
  if (status == PB_OK) return 0;
  fprintf(stderr, "zlib_roundtrip: %s: %s (%s)\n", what, pb_err_name(status), pb_last_error());
  return 1;
}

/* Fills src with text that compresses about 4:1, varied by the iteration. */
static void prepare(roundtrip *rt, size_t iter) {
  static const char *const words[] = {"porter ", "bench ",  "zlib ",    "round ",
                                      "trip ",   "memory ", "compress", "\n"};
  uint32_t x = 2463534242u ^ (uint32_t)iter;
  size_t i = 0;
  while (i < BUF_SIZE) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const char *w = words[x % 8];
    for (size_t k = 0; w[k] != '\0' && i < BUF_SIZE; k++) rt->src[i++] = (unsigned char)w[k];
    if (i < BUF_SIZE && x % 5 == 0) rt->src[i++] = (unsigned char)('0' + x % 10);
  }
}

/*
 * memset through a volatile pointer: the compiler cannot see what is called,
 * so it can neither drop the stores nor the malloc/free pair around them
 * (gcc elides an allocation whose contents it can fold).
 */
static void *(*volatile g_touch)(void *, int, size_t) = memset;

/*
 * Allocates SPIKE_SIZE bytes, touches every page and frees them: a
 * short-lived 150 MiB high of the resident set. Returns 0, or 1 when the
 * allocation failed.
 */
static int memory_spike(void) {
  unsigned char *p = malloc(SPIKE_SIZE);
  if (p == NULL) {
    fprintf(stderr, "zlib_roundtrip: cannot allocate the 150 MiB spike\n");
    return 1;
  }
  g_touch(p, 0x5a, SPIKE_SIZE);
  free(p);
  return 0;
}

/* Compresses src into comp; in every SPIKE_EVERY-th iteration also spikes. */
static int compress_step(roundtrip *rt, size_t iter) {
  if ((iter + 1) % SPIKE_EVERY == 0 && memory_spike() != 0) return 1;
  rt->comp_len = rt->comp_cap;
  int z = compress2(rt->comp, &rt->comp_len, rt->src, BUF_SIZE, 6);
  if (z == Z_OK) return 0;
  fprintf(stderr, "zlib_roundtrip: compress2: %d\n", z);
  return 1;
}

/* Decompresses comp into back. */
static int decompress_step(roundtrip *rt) {
  uLongf len = BUF_SIZE;
  int z = uncompress(rt->back, &len, rt->comp, rt->comp_len);
  if (z == Z_OK && len == BUF_SIZE) return 0;
  fprintf(stderr, "zlib_roundtrip: uncompress: %d (%lu bytes)\n", z, (unsigned long)len);
  return 1;
}

/* One recorded round trip: gstep, the four steps, each closed by pb_step. */
static int one_iteration(pb_bench *b, roundtrip *rt, size_t iter) {
  int bad = check(pb_gstep(b), "pb_gstep");
  prepare(rt, iter);
  bad |= check(pb_step(b, "prepare"), "pb_step prepare");
  bad |= compress_step(rt, iter);
  bad |= check(pb_step(b, "compress"), "pb_step compress");
  bad |= decompress_step(rt);
  bad |= check(pb_step(b, "decompress"), "pb_step decompress");
  if (memcmp(rt->src, rt->back, BUF_SIZE) != 0) {
    fprintf(stderr, "zlib_roundtrip: iteration %zu: the round trip changed the data\n", iter);
    bad = 1;
  }
  bad |= check(pb_step(b, "verify"), "pb_step verify");
  return bad;
}

/* Runs n round trips recorded by b; returns 0 or 1. */
static int run(pb_bench *b, size_t n) {
  roundtrip rt = {0};
  rt.comp_cap = compressBound(BUF_SIZE);
  rt.src = malloc(BUF_SIZE);
  rt.back = malloc(BUF_SIZE);
  rt.comp = malloc(rt.comp_cap);
  int bad = rt.src == NULL || rt.back == NULL || rt.comp == NULL;
  bad |= check(pb_enable_memory_tracking(b, true), "pb_enable_memory_tracking");
  for (size_t i = 0; i < n && !bad; i++) bad |= one_iteration(b, &rt, i);
  bad |= check(pb_gstop(b), "pb_gstop");
  free(rt.src);
  free(rt.back);
  free(rt.comp);
  return bad;
}

/* Parses a positive iteration count; returns 0 when s is not one. */
static size_t parse_count(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > 100000000ull) return 0;
  return (size_t)v;
}

int main(int argc, char **argv) {
  size_t n = argc == 3 ? parse_count(argv[1]) : 0;
  if (n == 0) {
    fprintf(stderr,
            "usage: %s ITERATIONS ROOT\n  records ITERATIONS zlib round trips "
            "into ROOT/<timestamp>/zlib_*.json\n",
            argv[0]);
    return 2;
  }
  pb_registry *reg;
  if (check(pb_registry_create(argv[2], &reg), "pb_registry_create")) return 1;
  pb_bench *b = pb_registry_get(reg, "zlib");
  int bad = b == NULL ? check(PB_ENOMEM, "pb_registry_get") : run(b, n);
  bad |= check(pb_registry_save(reg), "pb_registry_save");
  char dir[4096];
  if (!bad && pb_registry_run_dir(reg, dir, sizeof dir) >= 0) printf("%s\n", dir);
  pb_registry_destroy(reg);
  return bad ? 1 : 0;
}
