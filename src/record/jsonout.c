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

static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Number of decimal digits of v (1 for 0). */
static int ndigits(uint64_t v) {
  int n = 1;
  while (v >= 100) {
    v /= 100;
    n += 2;
  }
  return n + (v >= 10);
}

/* Writes the n digits of v ending just before end. */
static void put_digits(char *end, uint64_t v, int n) {
  while (n >= 2) {
    end -= 2;
    memcpy(end, pairs + 2 * (v % 100), 2);
    v /= 100;
    n -= 2;
  }
  if (n) *--end = (char)('0' + v % 10);
}

/* Room for n bytes in the buffer, written in place (n <= 64). */
static char *reserve(pb__out *o, size_t n) {
  if (o->len + n > o->cap) pb__out_flush(o);
  return o->buf + o->len;
}

char *pb__json_seconds_at(char *q, uint64_t ns) {
  uint64_t whole = ns / 1000000000u;
  uint32_t frac = (uint32_t)(ns - whole * 1000000000u);
  if (whole < 10) {
    *q++ = (char)('0' + whole);
  } else {
    int nw = ndigits(whole);
    put_digits(q + nw, whole, nw);
    q += nw;
  }
  *q++ = '.';
  uint32_t lo = frac % 100000000u, a = lo / 10000u, b = lo % 10000u;
  *q++ = (char)('0' + frac / 100000000u);
  memcpy(q, pairs + 2 * (a / 100u), 2);
  memcpy(q + 2, pairs + 2 * (a % 100u), 2);
  memcpy(q + 4, pairs + 2 * (b / 100u), 2);
  memcpy(q + 6, pairs + 2 * (b % 100u), 2);
  q += 8;
  while (q[-1] == '0' && q[-2] != '.') q--; /* trailing zeros dropped, one digit kept */
  return q;
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

char *pb__json_uint_at(char *q, uint64_t v) {
  int n = ndigits(v);
  put_digits(q + n, v, n);
  return q + n;
}

void pb__json_int(pb__out *o, int64_t v) {
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  int n = ndigits(u);
  char *p = reserve(o, 24);
  if (v < 0) *p++ = '-';
  put_digits(p + n, u, n);
  o->len += (size_t)n + (v < 0);
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
