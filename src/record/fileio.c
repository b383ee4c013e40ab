/*
 * fileio.c - folders and record files that are never partial: every file is
 * written to a temporary name in its folder and renamed over the target, so
 * a reader or a crash sees either the old file or the new one, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

enum { OUT_BUF = 1 << 20 };

int pb__mkdir_p(const char *dir) {
  size_t len = strlen(dir);
  if (len == 0) return PB_OK;
  char *tmp = malloc(len + 1);
  if (!tmp) return pb__fail(PB_ENOMEM, "out of memory creating folder '%s'", dir);
  memcpy(tmp, dir, len + 1);
  int rc = PB_OK;
  for (char *p = tmp + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
      rc = pb__fail(PB_EIO, "cannot create folder '%s': %s", tmp, strerror(errno));
      break;
    }
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) {
      rc = pb__fail(PB_EIO, "cannot create folder '%s': a file of that name is in the way", tmp);
      break;
    }
    *p = saved;
    if (saved == '\0') break;
  }
  free(tmp);
  return rc;
}

int pb__mkdir_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return PB_OK;
  size_t len = (size_t)(slash - path);
  char *dir = malloc(len + 1);
  if (!dir) return pb__fail(PB_ENOMEM, "out of memory creating the folder of '%s'", path);
  memcpy(dir, path, len);
  dir[len] = '\0';
  int rc = pb__mkdir_p(dir);
  free(dir);
  return rc;
}

static atomic_uint tmp_counter;

/* RLIMIT_FSIZE now (UINT64_MAX: none): writing past it raises SIGXFSZ, which
 * kills the host program by default, so writes stop short of it (EFBIG). */
static uint64_t fsize_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return (uint64_t)rl.rlim_cur;
}

int pb__out_open(pb__out *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->fd = -1;
  size_t n = strlen(path) + 64;
  o->path = strdup(path);
  o->tmp = malloc(n);
  o->buf = malloc(OUT_BUF);
  if (!o->path || !o->tmp || !o->buf) {
    free(o->path);
    free(o->tmp);
    free(o->buf);
    return pb__fail(PB_ENOMEM, "out of memory writing '%s'", path);
  }
  o->cap = OUT_BUF;
  o->append_at = -1;
  unsigned id = atomic_fetch_add(&tmp_counter, 1);
  snprintf(o->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), id);
  o->limit = fsize_limit();
  o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (o->fd < 0) {
    int e = errno;
    free(o->path);
    free(o->tmp);
    free(o->buf);
    return pb__fail(PB_EIO, "cannot create '%s': %s", path, strerror(e));
  }
  return PB_OK;
}

int pb__out_open_append(pb__out *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->path = strdup(path);
  o->buf = malloc(OUT_BUF);
  if (!o->path || !o->buf) {
    free(o->path);
    free(o->buf);
    return pb__fail(PB_ENOMEM, "out of memory writing '%s'", path);
  }
  o->cap = OUT_BUF;
  o->limit = fsize_limit();
  o->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  off_t end = o->fd >= 0 ? lseek(o->fd, 0, SEEK_END) : -1;
  if (end < 0) {
    int e = errno;
    if (o->fd >= 0) close(o->fd);
    free(o->path);
    free(o->buf);
    return pb__fail(PB_EIO, "cannot append to '%s': %s", path, strerror(e));
  }
  o->append_at = end;
  o->total = (uint64_t)end; /* counts against RLIMIT_FSIZE */
  return PB_OK;
}

/* Appending: closes; on error cuts the file back so no torn line stays. */
static int commit_append(pb__out *o) {
  if (o->err) {
    if (ftruncate(o->fd, o->append_at) != 0) { /* best effort: readers skip a torn line */
    }
  }
  if (close(o->fd) != 0 && !o->err) o->err = errno;
  int rc =
      o->err ? pb__fail(PB_EIO, "cannot append to '%s': %s", o->path, strerror(o->err)) : PB_OK;
  free(o->path);
  free(o->buf);
  o->buf = o->path = NULL;
  return rc;
}

void pb__out_write_direct(pb__out *o, const void *p, size_t n) {
  const char *c = p;
  if (!o->err && n > o->limit - o->total) o->err = EFBIG;
  while (n > 0 && !o->err) {
    ssize_t w = write(o->fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      o->err = errno;
      break;
    }
    c += w;
    n -= (size_t)w;
    o->total += (uint64_t)w;
  }
}

void pb__out_flush(pb__out *o) {
  if (o->len) pb__out_write_direct(o, o->buf, o->len);
  o->len = 0;
}

int pb__out_commit(pb__out *o) {
  pb__out_flush(o);
  if (o->append_at >= 0) return commit_append(o);
  int rc = PB_OK;
  if (!o->err && close(o->fd) != 0)
    o->err = errno;
  else if (o->err)
    close(o->fd);
  if (!o->err && rename(o->tmp, o->path) != 0) o->err = errno;
  if (o->err) {
    unlink(o->tmp);
    rc = pb__fail(PB_EIO, "cannot write '%s': %s", o->path, strerror(o->err));
  }
  free(o->path);
  free(o->tmp);
  free(o->buf);
  o->buf = o->path = o->tmp = NULL;
  return rc;
}
