/*
 * fileio.c - folders and record files that are never partial: every file is
 * written to a temporary name in its folder and renamed over the target, so
 * a reader or a crash sees either the old file or the new one, whole.
 *
 * Planted links (issue 11, defect 11): a temporary name carries 64 random
 * bits and is created with O_CREAT | O_EXCL | O_NOFOLLOW, so that nothing
 * anyone put there beforehand is opened; rename() replaces a link at the
 * target name instead of writing through it; a journal is opened with
 * O_NOFOLLOW and must be a regular file with one link. The folder that
 * receives the files is checked by check_folder (see docs/RECORDING.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The writer's buffer: large enough that a write() costs little per byte
 * (the page-cache copy dominates from 64 KiB on), small beside the records a
 * save writes: it is the largest part of a save's extra memory (issue 15,
 * item 6; 1 MiB before, 13% of the records of 100,000 iterations x 5 steps). */
enum { OUT_BUF = 256 << 10 };

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

/*
 * The folder that receives record files: a symbolic link there must be owned
 * by the effective user or root (another user's link could lead our files
 * anywhere), and the folder must not be writable by all unless the sticky bit
 * keeps others from renaming or removing its entries. Its owner is not
 * checked: files are created exclusively and never through a link, so the
 * owner of the folder can touch only what is in it (and root writing into a
 * user's bind-mounted folder is a common, legitimate set-up).
 */
static int check_folder(const char *dir) {
  struct stat lst, st;
  uid_t me = geteuid();
  if (lstat(dir, &lst) != 0 || stat(dir, &st) != 0)
    return pb__fail(PB_EIO, "cannot examine folder '%s': %s", dir, strerror(errno));
  if (S_ISLNK(lst.st_mode) && lst.st_uid != me && lst.st_uid != 0)
    return pb__fail(PB_EIO, "folder '%s' is a link owned by another user (uid %ld)", dir,
                    (long)lst.st_uid);
  if (!S_ISDIR(st.st_mode)) return pb__fail(PB_EIO, "'%s' is not a folder", dir);
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
    return pb__fail(PB_EIO, "folder '%s' is writable by all users without the sticky bit", dir);
  return PB_OK;
}

int pb__mkdir_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return check_folder(".");
  if (slash == path) return check_folder("/");
  size_t len = (size_t)(slash - path);
  char *dir = malloc(len + 1);
  if (!dir) return pb__fail(PB_ENOMEM, "out of memory creating the folder of '%s'", path);
  memcpy(dir, path, len);
  dir[len] = '\0';
  int rc = pb__mkdir_p(dir);
  if (rc == PB_OK) rc = check_folder(dir);
  free(dir);
  return rc;
}

static atomic_uint_fast64_t tmp_counter;

/* 64 unpredictable bits: getrandom, else /dev/urandom, else a mix of the
 * clock, the pid and a counter (still unique; creation is exclusive anyway). */
static uint64_t random64(void) {
  uint64_t v;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v) return v;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd >= 0 ? read(fd, &v, sizeof v) : -1;
  if (fd >= 0) close(fd);
  if (n == (ssize_t)sizeof v) return v;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40);
  v ^= atomic_fetch_add(&tmp_counter, 1) * 0x9E3779B97F4A7C15u;
  return v;
}

/*
 * Creates "<path>.tmp.<16 hex digits>" exclusively, never through a link;
 * returns its descriptor (o->tmp holds the name) or -1 with errno set.
 */
static int create_temp(pb__out *o, size_t n) {
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 32; tries++) {
    snprintf(o->tmp, n, "%s.tmp.%016llx", o->path, (unsigned long long)random64());
    fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  return fd;
}

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
  o->limit = fsize_limit();
  o->fd = create_temp(o, n);
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
  o->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
  off_t end = o->fd >= 0 ? lseek(o->fd, 0, SEEK_END) : -1;
  int e = errno;
  struct stat st;
  if (end >= 0 && (fstat(o->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
    end = -1; /* a device, a FIFO or a hard link to another file: not ours to append to */
    e = EPERM;
  }
  if (end < 0) {
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

int pb__truncate_nofollow(const char *path, int64_t size) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return PB_EIO;
  struct stat st;
  int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, size) == 0 ? PB_OK : PB_EIO;
  close(fd);
  return rc;
}
