/*
 * toggles.c - eight feature switches from one environment variable of binary
 * digits, bit 0 the rightmost (as the original). The variable has two names:
 * PORTER_BENCH_TOGGLES (the original's current code) wins over TICTOC_TOGGLES
 * (its design document); an empty variable counts as unset.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static pthread_once_t toggles_once = PTHREAD_ONCE_INIT;
static unsigned toggles_mask;

int pb_parse_toggles(const char *text, unsigned *mask) {
  if (!mask) return pb__fail(PB_EINVAL, "pb_parse_toggles: mask is NULL");
  *mask = 0;
  if (!text) return PB_OK;
  size_t len = strlen(text);
  if (len == 0 || len > 8) {
    return pb__fail(PB_EINVAL, "toggles '%s' must be 1 to 8 binary digits", text);
  }
  unsigned m = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] != '0' && text[i] != '1') {
      return pb__fail(PB_EINVAL, "toggles '%s' must be 1 to 8 binary digits", text);
    }
    m = (m << 1) | (unsigned)(text[i] - '0');
  }
  *mask = m;
  return PB_OK;
}

static void load_toggles(void) {
  const char *name = PB_ENV_TOGGLES;
  const char *env = pb__getenv(PB_ENV_TOGGLES);
  const char *alt = pb__getenv(PB_ENV_TOGGLES_TICTOC);
  if (env == NULL) {
    name = PB_ENV_TOGGLES_TICTOC;
    env = alt;
  } else if (alt != NULL && strcmp(env, alt) != 0) {
    pb__warn("%s='%s' and %s='%s' differ: %s is used", PB_ENV_TOGGLES, env, PB_ENV_TOGGLES_TICTOC,
             alt, PB_ENV_TOGGLES);
  }
  if (pb_parse_toggles(env, &toggles_mask) != PB_OK) {
    pb__warn("%s='%s' is not 1 to 8 binary digits: all toggles are off", name, env);
  }
}

unsigned pb_toggles(void) {
  pthread_once(&toggles_once, load_toggles);
  return toggles_mask;
}

bool pb_toggle(unsigned i) { return i < 8 && ((pb_toggles() >> i) & 1u); }
