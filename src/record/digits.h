/*
 * digits.h - decimal text without a division per digit, inline for the
 * writers that format a few numbers per record (jsonout.c, save.c; issue 15,
 * item 6).
 *
 * pb__digits8 spreads v < 10^8 over the eight bytes of a word, the most
 * significant digit in the lowest byte (the first in memory on a
 * little-endian machine), dividing all lanes at once: the word holds
 * v / 10^4 and v % 10^4 in 32-bit lanes, then four 16-bit lanes of two
 * digits, then eight bytes. Multiplying by 10486 / 2^20 divides a lane below
 * 10^4 by 100 exactly, and by 103 / 2^10 one below 100 by 10; no lane's
 * product reaches the next lane. Big-endian machines take a digit loop.
 *
 * Every writer here may store up to 8 bytes past the end it returns: callers
 * leave that much room.
 */
#ifndef PB_RECORD_DIGITS_H
#define PB_RECORD_DIGITS_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PB__DIGITS_SWAR 1
#else
#define PB__DIGITS_SWAR 0
#endif

/** The 8 decimal digits of v < 10^8 as byte values 0..9, most significant in the low byte. */
static inline uint64_t pb__digits8(uint32_t v) {
  uint64_t x = (uint64_t)(v / 10000u) | ((uint64_t)(v % 10000u) << 32);
  uint64_t y = ((x * 10486u) >> 20) & 0x0000007F0000007Full;
  x = y | ((x - y * 100u) << 16);
  y = ((x * 103u) >> 10) & 0x000F000F000F000Full;
  return y | ((x - y * 10u) << 8);
}

/** Writes the 8 digits of v < 10^8, leading zeros included, at q. */
static inline void pb__put8(char *q, uint32_t v) {
#if PB__DIGITS_SWAR
  uint64_t x = pb__digits8(v) + 0x3030303030303030ull;
  memcpy(q, &x, 8);
#else
  for (int i = 7; i >= 0; i--, v /= 10) q[i] = (char)('0' + v % 10);
#endif
}

/** Writes v < 10^8 without leading zeros at q; returns the end. */
static inline char *pb__put_upto8(char *q, uint32_t v) {
  if (v < 10) {
    *q = (char)('0' + v);
    return q + 1;
  }
#if PB__DIGITS_SWAR
  uint64_t x = pb__digits8(v);
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

#if PB__DIGITS_SWAR
/** The 4 digits of v < 10^4 as byte values, most significant in the low byte (pb__digits8's
 * last two steps alone). */
static inline uint32_t pb__digits4(uint32_t v) {
  uint32_t x = (v / 100u) | ((v % 100u) << 16);
  uint32_t y = ((x * 103u) >> 10) & 0x000F000Fu;
  return y | ((x - y * 10u) << 8);
}
#endif

/**
 * The decimals of a time, frac = ns % 10^9 (< 10^9): ".d" to ".ddddddddd",
 * trailing zeros dropped but one digit kept; returns the end.
 */
static inline char *pb__frac_at(char *q, uint32_t frac) {
#if PB__DIGITS_SWAR
  if (frac - 1 < 9999u) { /* 1 to 9,999 ns, most of a step's gaps: ".00000dddd" */
    uint32_t x = pb__digits4(frac);
    unsigned trail = (unsigned)__builtin_clz(x) >> 3;
    memcpy(q, ".0000000", 8);
    x += 0x30303030u;
    memcpy(q + 6, &x, 4);
    return q + 10 - trail;
  }
#endif
  uint32_t first = frac / 100000000u, rest = frac - first * 100000000u;
  q[0] = '.';
  q[1] = (char)('0' + first);
  if (rest == 0) return q + 2;
#if PB__DIGITS_SWAR
  uint64_t x = pb__digits8(rest); /* trailing zero digits: the high zero bytes */
  unsigned trail = (unsigned)__builtin_clzll(x) >> 3;
  x += 0x3030303030303030ull;
  memcpy(q + 2, &x, 8);
  return q + 10 - trail;
#else
  pb__put8(q + 2, rest);
  q += 10;
  while (q[-1] == '0') q--;
  return q;
#endif
}

#endif
