/*
 * replay_main.c - a main() for the fuzz targets where libFuzzer is not
 * available (gcc builds): runs every file named on the command line, or
 * every file in a folder named there, through LLVMFuzzerTestOneInput once.
 * ctest uses it to replay the committed corpus (fuzz/corpus/<target>/) in
 * the normal and sanitizer builds.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
    fclose(f);
    free(buf);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  long runs = 0;
  int bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad |= run_file(argv[i]);
      runs++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
      char *p = malloc(len);
      if (!p) return 1;
      snprintf(p, len, "%s/%s", argv[i], e->d_name);
      bad |= run_file(p);
      runs++;
      free(p);
    }
    if (d) closedir(d);
  }
  printf("replayed %ld inputs\n", runs);
  return bad;
}
