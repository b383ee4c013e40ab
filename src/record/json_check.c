/*
 * json_check.c - checks that a caller's extra is exactly one JSON value
 * (RFC 8259), so that it can be copied verbatim into a record file.
 */
#include <limits.h>

#include "internal.h"

enum { MAX_DEPTH = 512 };

typedef struct cur {
  const unsigned char *p;
  const unsigned char *end;
  int depth;
} cur;

static bool value(cur *c);

static void skip_ws(cur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static bool literal(cur *c, const char *word) {
  for (; *word; word++, c->p++) {
    if (c->p >= c->end || *c->p != (unsigned char)*word) return false;
  }
  return true;
}

static bool digits(cur *c) {
  const unsigned char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
  return c->p > start;
}

/* Exponents are read up to this and saturate there: far beyond a double's
 * range, yet the sum with a position in the text cannot overflow a long. */
#define EXP_CAP (LONG_MAX / 4)

/*
 * The decimal exponent of the first significant digit of the number
 * [start, end) (grammar already checked): 1234.5e2 -> 5, 0.01 -> -2, 0 -> 0.
 * The digits' part is bounded by the text's length and is exact; the written
 * exponent saturates at EXP_CAP, which no text is long enough to offset, so
 * the sign and the overflow decision stay right for any length.
 */
static long magnitude(const unsigned char *p, const unsigned char *end) {
  if (*p == '-') p++;
  long intdigits = 0, first = -1, pos = 0; /* first: position of the first non-zero digit */
  for (; p < end && *p >= '0' && *p <= '9'; p++, pos++) {
    if (first < 0 && *p != '0') first = pos;
    intdigits++;
  }
  if (p < end && *p == '.') p++;
  for (; p < end && *p >= '0' && *p <= '9'; p++, pos++) {
    if (first < 0 && *p != '0') first = pos;
  }
  if (first < 0) return 0;
  long exp = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool neg = *p == '-';
    if (*p == '+' || *p == '-') p++;
    for (; p < end; p++) exp = exp < EXP_CAP / 10 ? exp * 10 + (*p - '0') : EXP_CAP;
    if (neg) exp = -exp;
  }
  return intdigits - first - 1 + exp;
}

/*
 * For a magnitude of 308: true when the significant digits read below the
 * point where a double overflows, DBL_MAX plus half an ulp = 2^1024 - 2^970,
 * written out in full. A value equal to it rounds (to even) to infinity; one
 * that matches all its digits and has more is at or above it.
 */
static bool below_max(const unsigned char *p, const unsigned char *end) {
  static const char limit[] =
      "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649"
      "017977587207096330286416692887910946555547851940402630657488671505820681908902000708383"
      "676273854845817711531764475730270069855571366959622842914819860834936475292719074168444"
      "365510704342711559699508093042880177904174497792";
  size_t k = 0;
  bool started = false;
  for (; p < end && *p != 'e' && *p != 'E'; p++) {
    if (*p < '0' || *p > '9') continue;
    if (!started && *p == '0') continue;
    started = true;
    if (k == sizeof limit - 1) return false; /* all of the limit's digits matched */
    if (*p != limit[k]) return *p < limit[k];
    k++;
  }
  return k < sizeof limit - 1; /* a prefix of the limit is below it (its tail is not 0) */
}

/*
 * A number, as RFC 8259 writes it, that a reader can hold in a double: a
 * magnitude of 10^308 or more overflows to infinity, which strict parsers
 * (jansson) refuse, so it is refused here (underflow reads as 0 and is kept).
 */
static bool number(cur *c) {
  const unsigned char *start = c->p;
  if (c->p < c->end && *c->p == '-') c->p++;
  if (c->p >= c->end) return false;
  if (*c->p == '0') {
    c->p++;
  } else if (!digits(c)) {
    return false;
  }
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (!digits(c)) return false;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!digits(c)) return false;
  }
  long mag = magnitude(start, c->p);
  return mag < 308 || (mag == 308 && below_max(start, c->p));
}

static int hex4(cur *c) {
  int v = 0;
  for (int i = 0; i < 4; i++, c->p++) {
    if (c->p >= c->end) return -1;
    unsigned char h = *c->p;
    v <<= 4;
    if (h >= '0' && h <= '9')
      v |= h - '0';
    else if (h >= 'a' && h <= 'f')
      v |= h - 'a' + 10;
    else if (h >= 'A' && h <= 'F')
      v |= h - 'A' + 10;
    else
      return -1;
  }
  return v;
}

static bool escape(cur *c) {
  if (c->p >= c->end) return false;
  unsigned char e = *c->p++;
  if (e != 'u')
    return e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
           e == 't';
  int u = hex4(c);
  if (u < 0) return false;
  if (u >= 0xDC00 && u <= 0xDFFF) return false; /* lone low surrogate */
  if (u >= 0xD800 && u <= 0xDBFF) {             /* needs its low half */
    if (!literal(c, "\\u")) return false;
    int lo = hex4(c);
    return lo >= 0xDC00 && lo <= 0xDFFF;
  }
  return true;
}

static bool string(cur *c) {
  c->p++; /* opening quote */
  while (c->p < c->end) {
    unsigned char ch = *c->p;
    if (ch == '"') {
      c->p++;
      return true;
    }
    if (ch < 0x20) return false;
    if (ch == '\\') {
      c->p++;
      if (!escape(c)) return false;
    } else if (ch < 0x80) {
      c->p++;
    } else {
      int n = pb__utf8_seq(c->p, c->end);
      if (!n) return false;
      c->p += n;
    }
  }
  return false;
}

static bool container(cur *c, unsigned char close, bool keyed) {
  if (++c->depth > MAX_DEPTH) return false;
  c->p++;
  skip_ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    c->depth--;
    return true;
  }
  for (;;) {
    skip_ws(c);
    if (keyed) {
      if (c->p >= c->end || *c->p != '"' || !string(c)) return false;
      skip_ws(c);
      if (c->p >= c->end || *c->p++ != ':') return false;
    }
    if (!value(c)) return false;
    skip_ws(c);
    if (c->p >= c->end) return false;
    unsigned char ch = *c->p++;
    if (ch == close) break;
    if (ch != ',') return false;
  }
  c->depth--;
  return true;
}

static bool value(cur *c) {
  skip_ws(c);
  if (c->p >= c->end) return false;
  switch (*c->p) {
    case '{': return container(c, '}', true);
    case '[': return container(c, ']', false);
    case '"': return string(c);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case 'n': return literal(c, "null");
    default: return number(c);
  }
}

bool pb__json_valid(const char *text, size_t len) {
  cur c = {(const unsigned char *)text, (const unsigned char *)text + len, 0};
  if (!value(&c)) return false;
  skip_ws(&c);
  return c.p == c.end;
}
