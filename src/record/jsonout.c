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

/*
 * Digits without a division per digit (issue 15, item 6: a save formats
 * about three numbers per record). digits8 spreads v < 10^8 over the eight
 * bytes of a word, most significant digit in the lowest byte (the first in
 * memory on a little-endian machine), by dividing all lanes at once: the
 * word holds v / 10^4 and v % 10^4 in 32-bit lanes, then four 16-bit lanes
 * of two digits, then eight bytes. Multiplying by 10486 / 2^20 divides a
 * lane below 10^4 by 100 exactly, and by 103 / 2^10 one below 100 by 10; no
 * lane's product reaches the next lane.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PB_DIGITS_SWAR 1
#else
#define PB_DIGITS_SWAR 0
#endif

static inline uint64_t digits8(uint32_t v) {
  uint64_t x = (uint64_t)(v / 10000u) | ((uint64_t)(v % 10000u) << 32);
  uint64_t y = ((x * 10486u) >> 20) & 0x0000007F0000007Full;
  x = y | ((x - y * 100u) << 16);
  y = ((x * 103u) >> 10) & 0x000F000F000F000Full;
  return y | ((x - y * 10u) << 8);
}

/* Writes the 8 digits of v < 10^8 (leading zeros included) at q. */
static inline void put8(char *q, uint32_t v) {
#if PB_DIGITS_SWAR
  uint64_t x = digits8(v) + 0x3030303030303030ull;
  memcpy(q, &x, 8);
#else
  for (int i = 7; i >= 0; i--, v /= 10) q[i] = (char)('0' + v % 10);
#endif
}

/* Writes v < 10^8 without leading zeros at q; returns the end. Writes 8 bytes. */
static inline char *put_upto8(char *q, uint32_t v) {
#if PB_DIGITS_SWAR
  if (v < 10) {
    *q = (char)('0' + v);
    return q + 1;
  }
  uint64_t x = digits8(v);
  unsigned lead = (unsigned)__builtin_ctzll(x) >> 3; /* leading zero digits: low zero bytes */
  x = (x >> (8 * lead)) + 0x3030303030303030ull;
  memcpy(q, &x, 8);
  return q + 8 - lead;
#else
  char tmp[8];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  for (int i = 0; i < n; i++) q[i] = tmp[n - 1 - i];
  return q + n;
#endif
}

char *pb__json_uint_at(char *q, uint64_t v) {
  if (v < 100000000u) return put_upto8(q, (uint32_t)v);
  uint64_t hi = v / 100000000u;
  uint32_t lo = (uint32_t)(v - hi * 100000000u);
  if (hi < 100000000u) {
    q = put_upto8(q, (uint32_t)hi);
  } else { /* 17 to 20 digits */
    uint64_t top = hi / 100000000u;
    q = put_upto8(q, (uint32_t)top);
    put8(q, (uint32_t)(hi - top * 100000000u));
    q += 8;
  }
  put8(q, lo);
  return q + 8;
}

/* Room for n bytes in the buffer, written in place (n <= 64). */
static char *reserve(pb__out *o, size_t n) {
  if (o->len + n > o->cap) pb__out_flush(o);
  return o->buf + o->len;
}

/* The nine decimals of ns % 10^9 with trailing zeros dropped (one digit kept). */
char *pb__json_seconds_at(char *q, uint64_t ns) {
  uint64_t whole = ns / 1000000000u;
  uint32_t frac = (uint32_t)(ns - whole * 1000000000u);
  q = pb__json_uint_at(q, whole);
  uint32_t first = frac / 100000000u, rest = frac - first * 100000000u;
  q[0] = '.';
  q[1] = (char)('0' + first);
  if (rest == 0) return q + 2;
#if PB_DIGITS_SWAR
  uint64_t x = digits8(rest); /* trailing zero digits: the high zero bytes */
  unsigned trail = (unsigned)__builtin_clzll(x) >> 3;
  x += 0x3030303030303030ull;
  memcpy(q + 2, &x, 8);
  return q + 10 - trail;
#else
  put8(q + 2, rest);
  q += 10;
  while (q[-1] == '0') q--;
  return q;
#endif
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
