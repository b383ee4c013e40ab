/*
 * jsonout.c - writing JSON values: escaped strings and exact decimals.
 *
 * Times are integer nanoseconds; ns / 1e9 written with up to nine decimals is
 * exact, and a JSON reader turns it into the double nearest to it, so no
 * general float formatter is needed on the hot path of a save.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digits.h"
#include "internal.h"

static const char hexd[] = "0123456789abcdef";

int pb__utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned char b = p[0];
  int n;
  uint32_t cp;
  if (b >= 0xC2 && b <= 0xDF)
    n = 2, cp = b & 0x1Fu;
  else if (b >= 0xE0 && b <= 0xEF)
    n = 3, cp = b & 0x0Fu;
  else if (b >= 0xF0 && b <= 0xF4)
    n = 4, cp = b & 0x07u;
  else
    return 0;
  if (end - p < n) return 0;
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

void pb__json_string(pb__out *o, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  pb__out_char(o, '"');
  while (p < end) {
    const unsigned char *run = p;
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    if (p > run) pb__out_write(o, run, (size_t)(p - run));
    if (p >= end) break;
    unsigned char ch = *p;
    if (ch == '"' || ch == '\\') {
      char esc[2] = {'\\', (char)ch};
      pb__out_write(o, esc, 2);
      p++;
    } else if (ch < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hexd[ch >> 4], hexd[ch & 15]};
      pb__out_write(o, esc, 6);
      p++;
    } else {
      int n = pb__utf8_seq(p, end);
      if (n) {
        pb__out_write(o, p, (size_t)n);
        p += n;
      } else {
        pb__out_lit(o, "\\ufffd"); /* invalid UTF-8 byte */
        p++;
      }
    }
  }
  pb__out_char(o, '"');
}

char *pb__json_uint_at(char *q, uint64_t v) {
  if (v < 100000000u) return pb__put_upto8(q, (uint32_t)v);
  uint64_t hi = v / 100000000u;
  uint32_t lo = (uint32_t)(v - hi * 100000000u);
  if (hi < 100000000u) {
    q = pb__put_upto8(q, (uint32_t)hi);
  } else { /* 17 to 20 digits */
    uint64_t top = hi / 100000000u;
    q = pb__put_upto8(q, (uint32_t)top);
    pb__put8(q, (uint32_t)(hi - top * 100000000u));
    q += 8;
  }
  pb__put8(q, lo);
  return q + 8;
}

/* Room for n bytes in the buffer, written in place (n <= 64). */
static char *reserve(pb__out *o, size_t n) {
  if (o->len + n > o->cap) pb__out_flush(o);
  return o->buf + o->len;
}

char *pb__json_seconds_at(char *q, uint64_t ns) {
  uint64_t whole = ns / 1000000000u;
  q = pb__json_uint_at(q, whole);
  return pb__frac_at(q, (uint32_t)(ns - whole * 1000000000u));
}

void pb__json_seconds(pb__out *o, uint64_t ns) {
  char *p = reserve(o, 32);
  o->len += (size_t)(pb__json_seconds_at(p, ns) - p);
}

void pb__json_seconds_signed(pb__out *o, int64_t ns) {
  if (ns < 0) {
    pb__out_char(o, '-');
    pb__json_seconds(o, (uint64_t)0 - (uint64_t)ns);
  } else {
    pb__json_seconds(o, (uint64_t)ns);
  }
}

void pb__json_int(pb__out *o, int64_t v) {
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  char *p = reserve(o, 24), *q = p;
  if (v < 0) *q++ = '-';
  o->len += (size_t)(pb__json_uint_at(q, u) - p);
}

void pb__json_double(pb__out *o, double v) {
  if (!isfinite(v)) {
    pb__out_lit(o, "null");
    return;
  }
  char buf[40];
  /* %.17g reads back as the same double; the C locale is assumed for '.'. */
  int n = snprintf(buf, sizeof buf, "%.17g", v);
  for (int i = 0; i < n; i++) {
    /* Locale-independent: a host program's locale may print a ',' point. */
    char ch = buf[i];
    if (!(ch >= '0' && ch <= '9') && ch != '-' && ch != '+' && ch != 'e') buf[i] = '.';
  }
  pb__out_write(o, buf, (size_t)n);
  if (!strpbrk(buf, ".eE")) pb__out_lit(o, ".0");
}
