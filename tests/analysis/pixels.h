/*
 * pixels.h - a pixel counter shared by the analysis tests that read a
 * rendered PNG back (test_charts.c, test_zlib_e2e.c). Header-only: each
 * test is its own executable, and the function is static.
 */
#ifndef PB_TEST_PIXELS_H
#define PB_TEST_PIXELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cairo.h>

#include "chart.h" /* internal: pb__rgb */

/* Counts the pixels of colour c (within tol per channel) of the image
 * surface s in rows [y0, y1) and columns [x0, x1), clipped to the image;
 * *top (if not NULL) gets the first row that has one, or -1 if none. */
static inline long count_color(cairo_surface_t *s, pb__rgb c, int tol, int x0, int x1, int y0,
                               int y1, int *top) {
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *d = cairo_image_surface_get_data(s);
  int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
  int R = (int)lround(c.r * 255), G = (int)lround(c.g * 255), B = (int)lround(c.b * 255);
  long n = 0;
  if (top) *top = -1;
  for (int y = y0 < 0 ? 0 : y0; y < y1 && y < H; y++) {
    const uint32_t *px = (const uint32_t *)(const void *)(d + (size_t)y * (size_t)stride);
    for (int x = x0 < 0 ? 0 : x0; x < x1 && x < W; x++) {
      int r = (int)(px[x] >> 16 & 255), g = (int)(px[x] >> 8 & 255), b = (int)(px[x] & 255);
      if (abs(r - R) <= tol && abs(g - G) <= tol && abs(b - B) <= tol) {
        if (top && *top < 0) *top = y;
        n++;
      }
    }
  }
  return n;
}

#endif
