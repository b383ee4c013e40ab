/*
 * timer.c - clocks and the stack-allocated timers (Timer, CountDownClock,
 * TimedCounter of the original).
 */
#include <stdio.h>
#include <time.h>

#include "internal.h"

uint64_t pb_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t pb_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

void pb_timer_tic(pb_timer *t) {
  if (t) t->start_ns = pb_now_ns();
}

uint64_t pb_timer_toc_ns(const pb_timer *t) {
  if (!t) return 0;
  uint64_t now = pb_now_ns();
  return now > t->start_ns ? now - t->start_ns : 0;
}

double pb_timer_toc(const pb_timer *t) { return (double)pb_timer_toc_ns(t) / 1e9; }

double pb_timer_ttoc(pb_timer *t) {
  if (!t) return 0;
  uint64_t now = pb_now_ns();
  uint64_t d = now > t->start_ns ? now - t->start_ns : 0;
  t->start_ns = now;
  return (double)d / 1e9;
}

void pb_timer_ptoc(const pb_timer *t, const char *message) {
  printf("%s %.9f\n", message ? message : "None", pb_timer_toc(t));
}

void pb_timer_pttoc(pb_timer *t, const char *message) {
  printf("%s %.9f\n", message ? message : "None", pb_timer_ttoc(t));
}

void pb_countdown_init(pb_countdown *c, double seconds) {
  if (!c) return;
  c->duration = seconds;
  pb_timer_tic(&c->timer);
}

void pb_countdown_set(pb_countdown *c, double seconds) { pb_countdown_init(c, seconds); }

void pb_countdown_reset(pb_countdown *c) {
  if (c) pb_timer_tic(&c->timer);
}

double pb_countdown_time_left(const pb_countdown *c) {
  return c ? c->duration - pb_timer_toc(&c->timer) : 0;
}

bool pb_countdown_completed(const pb_countdown *c) {
  return c ? c->duration < pb_timer_toc(&c->timer) : false;
}

void pb_timed_counter_init(pb_timed_counter *c, bool enabled) {
  if (!c) return;
  c->count = 0;
  c->stop_count = 0;
  c->stop_ns = 0;
  c->enabled = enabled;
  pb_timer_tic(&c->timer);
}

void pb_timed_counter_start(pb_timed_counter *c) {
  if (c && c->enabled && c->count == 0) pb_timer_tic(&c->timer);
}

void pb_timed_counter_stop(pb_timed_counter *c) {
  if (!c || !c->enabled) return;
  c->stop_ns = pb_timer_toc_ns(&c->timer);
  if (c->stop_ns == 0) c->stop_ns = 1; /* "stopped" even within one clock tick */
  c->stop_count = c->count;
}

void pb_timed_counter_count(pb_timed_counter *c) {
  if (c && c->enabled) c->count++;
}

double pb_timed_counter_frequency(const pb_timed_counter *c) {
  if (!c || !c->enabled) return 0;
  if (c->stop_ns != 0) return (double)c->stop_count / ((double)c->stop_ns / 1e9);
  uint64_t ns = pb_timer_toc_ns(&c->timer);
  return ns ? (double)c->count / ((double)ns / 1e9) : 0;
}

void pb_timed_counter_reset(pb_timed_counter *c) {
  if (!c || !c->enabled) return;
  pb_timer_tic(&c->timer);
  c->count = 0;
}

void pb_timed_counter_disable(pb_timed_counter *c) {
  if (c) c->enabled = false;
}
