/*
 * fuzz_common.h - helpers shared by the fuzz targets (header-only, static).
 *
 * Every target defines LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer it is a libFuzzer binary; otherwise replay_main.c gives
 * it a main() that runs files (the committed corpus) through it.
 *
 * A target reports a defect by printing a line starting "FUZZ-DEFECT" and
 * calling abort(): libFuzzer then saves the input as crash-<sha1>.
 */
#ifndef PB_FUZZ_COMMON_H
#define PB_FUZZ_COMMON_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define FUZZ_DEFECT(...)                          \
  do {                                            \
    fprintf(stderr, "FUZZ-DEFECT: " __VA_ARGS__); \
    fputc('\n', stderr);                          \
    abort();                                      \
  } while (0)

/* jansson flags for record files: big integers and \u0000 are legal JSON. */
#define FUZZ_JSON_FLAGS (JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL)

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw);
static char fuzz_scratch_dir[64];

static inline void fuzz_scratch_cleanup(void) {
  if (fuzz_scratch_dir[0]) nftw(fuzz_scratch_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch folder, created once per process (on /dev/shm when possible), removed at exit. */
static inline const char *fuzz_scratch(void) {
  char *dir = fuzz_scratch_dir;
  if (!dir[0]) {
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof fuzz_scratch_dir, "%s/pbfuzz.XXXXXX", base);
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      abort();
    }
    atexit(fuzz_scratch_cleanup);
  }
  return dir;
}

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

/* Empties a folder tree (the folder itself is removed too). */
static inline void fuzz_rmtree(const char *path) {
  nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fuzz_write(const char *path, const uint8_t *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    abort();
  }
  if (n && fwrite(data, 1, n, f) != n) abort();
  fclose(f);
}

/*
 * True when jansson refused text only for a number out of its range
 * (finding REL-F5: valid JSON that jansson cannot hold).
 */
static inline bool fuzz_number_range_error(const json_error_t *err) {
  return strstr(err->text, "real number overflow") || strstr(err->text, "too big integer") ||
         strstr(err->text, "too big negative integer");
}

#endif /* PB_FUZZ_COMMON_H */
