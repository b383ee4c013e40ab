/*
 * error.c - status codes, the per-thread last error, and the warning hook.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[1024];

_Thread_local unsigned char pb__in_call
    __attribute__((tls_model("initial-exec"), aligned(PB__TOKEN_ALIGN)));

int pb__nocancel_begin(void) {
  int old = PTHREAD_CANCEL_ENABLE;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  return old;
}

void pb__nocancel_end(int old) {
  int ignored;
  pthread_setcancelstate(old, &ignored);
}

/* Guards hook_fn and hook_ud together, so a hook never runs with another's data. */
static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pb_warning_fn hook_fn;
static void *hook_ud;

const char *pb_strerror(int status) {
  switch (status) {
    case PB_OK: return "success";
    case PB_EINVAL: return "invalid argument";
    case PB_ENOMEM: return "out of memory";
    case PB_EIO: return "input/output error";
    case PB_EJSON: return "invalid JSON text";
    case PB_ENOTSUP: return "not supported";
    case PB_ENOITER: return "no iteration opened yet";
    case PB_EDISABLED: return "benchmarker disabled";
    case PB_EOWNED: return "owned by a registry";
    case PB_EBUSY: return "porter_bench re-entered from a signal handler";
    default: return "unknown status";
  }
}

const char *pb_err_name(int status) {
  switch (status) {
    case PB_OK: return "PB_OK";
    case PB_EINVAL: return "PB_EINVAL";
    case PB_ENOMEM: return "PB_ENOMEM";
    case PB_EIO: return "PB_EIO";
    case PB_EJSON: return "PB_EJSON";
    case PB_ENOTSUP: return "PB_ENOTSUP";
    case PB_ENOITER: return "PB_ENOITER";
    case PB_EDISABLED: return "PB_EDISABLED";
    case PB_EOWNED: return "PB_EOWNED";
    case PB_EBUSY: return "PB_EBUSY";
    default: return "PB_UNKNOWN";
  }
}

const char *pb_last_error(void) { return last_error; }

int pb__fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

void pb_set_warning_handler(pb_warning_fn fn, void *user_data) {
  pthread_mutex_lock(&hook_mu);
  hook_fn = fn;
  hook_ud = user_data;
  pthread_mutex_unlock(&hook_mu);
}

void pb__warn(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&hook_mu);
  pb_warning_fn fn = hook_fn;
  void *ud = hook_ud;
  pthread_mutex_unlock(&hook_mu);
  if (fn) {
    fn(msg, ud);
  } else {
    fprintf(stderr, "porter_bench: %s\n", msg);
  }
}

unsigned pb_version_number(void) { return PB_VERSION_NUMBER; }
const char *pb_version(void) { return PB_VERSION_STRING; }
