/*
 * save.c - writing a benchmarker's three record files from a snapshot.
 *
 * The snapshot is taken under b->lock and costs O(1): the counts of the
 * stores and a copy of the last iteration (the only mutable one). Elements
 * below the counts never move or change, so the files are written from them
 * without any lock while other threads keep recording.
 *
 * Schema (the original's, see docs/RECORDING.md): DATA is a list of
 * {"absolutes", "info", "individual_calls"} per iteration; SUMMARY maps each
 * topic to {"mean", "min", "max", "quantile_filtered"} with GLOBAL last;
 * MEMORY is a list of {"info", "data"} per iteration with memory records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

typedef struct snap {
  pb__segvec recs, longs, xrecs, iters, iwide, ilead, mrecs, extras, topics;
  pb__iter last;    /* copy of the last iteration */
  size_t all_iters; /* iterations of the benchmarker, the open one left out or not */
  char **quoted;    /* per topic: its JSON string (quotes included), from b->qcache */
  size_t *quoted_len;
} snap;

/*
 * Quoted topic names kept across saves (issue 11, defect 13: quoting every
 * topic at every journal append cost 7.5 ms per auto-save at 100,000 topics):
 * a save quotes only the topics interned since the previous one. Used only by
 * the thread that writes (the save combiner's `saving` role, handed over
 * under save_mu). `busy` marks an update in progress: a child forked during
 * one abandons the cache (it may be half-made) and builds its own.
 */
struct pb__qcache {
  char **quoted;   /* per topic id: its JSON string, unique within the files */
  size_t *len;     /* its length */
  size_t n, cap;   /* topics quoted; capacity of the two arrays */
  size_t *set;     /* open addressing: id + 1, keyed by quoted[id]'s text */
  size_t nslots;   /* power of two, at least 2 * n */
  uint64_t *stamp; /* per topic: group()'s epoch where last seen (scratch's) */
  uint32_t *local; /* per topic: its position in the group (scratch's) */
  size_t ntopics;  /* length of stamp and local */
  uint64_t epoch;  /* group()'s calls so far: a stamp never matches a later one */
  long pid;        /* the process that made it */
  bool busy;       /* an update is under way */
};

/* Per-save scratch: topic -> position among an iteration's topics. The two
 * per-topic arrays belong to b->qcache and last across saves, so that a
 * journal append costs nothing per topic (issue 11, defect 13). */
typedef struct scratch {
  uint64_t *stamp; /* per topic: *epoch (or, in the summary, iteration + 1) where last seen */
  uint32_t *local; /* per topic: its position in `order` */
  uint64_t *epoch; /* group()'s counter */
  uint32_t *order; /* topics of the iteration in first-use order */
  uint64_t *sum;   /* per position: sum of ns */
  uint32_t *start; /* per position: start of its calls in `calls` */
  uint64_t *calls; /* record indices grouped by position */
  size_t cap;      /* capacity of order/sum/start/calls */
} scratch;

/* Memory records of iterations below `iter` (they are sorted by iteration). */
static size_t mrecs_below(const pb__segvec *mrecs, uint64_t iter) {
  size_t lo = 0, hi = mrecs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (((const pb__mrec *)pb__segvec_at(mrecs, mid))->iter < iter)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/*
 * Copies the stores' counts and the last iteration under b->lock. Without
 * with_open, an open last iteration is left out (an auto-save writes what
 * was closed, as before the next iteration opened): the counts stop before
 * it, and the iteration before it, which no step can change any more, is
 * the snapshot's last.
 */
static void take_snapshot(pb_bench *b, snap *s, bool with_open) {
  unsigned own = pb__bench_lock(b, false);
  s->recs = b->recs;
  s->longs = b->longs;
  s->xrecs = b->xrecs;
  s->iters = b->iters;
  s->iwide = b->iwide;
  s->ilead = b->ilead;
  s->mrecs = b->mrecs;
  s->extras = b->extras;
  s->topics = b->topics.infos;
  s->all_iters = b->iters.n;
  if (b->iters.n) s->last = *(pb__iter *)pb__segvec_at(&b->iters, b->iters.n - 1);
  if (!with_open && b->iters.n && !pb__iter_closed(&s->last)) {
    s->iters.n--;
    s->recs.n = s->last.first;
    s->mrecs.n = mrecs_below(&s->mrecs, s->iters.n);
    if (s->iters.n) s->last = *(pb__iter *)pb__segvec_at(&b->iters, s->iters.n - 1);
  }
  pb__bench_unlock(b, own);
}

static const pb__iter *iter_at(const snap *s, size_t i) {
  return i + 1 == s->iters.n ? &s->last : pb__segvec_at(&s->iters, i);
}

static const pb__topic_info *topic_at(const snap *s, uint32_t id) {
  return pb__segvec_at(&s->topics, id);
}

/* Writes a topic's name as a JSON string (made once, by quote_topics). */
static void write_topic(pb__out *o, const snap *s, uint32_t id) {
  pb__out_write(o, s->quoted[id], s->quoted_len[id]);
}

/* Quotes (escapes) a topic's name, with an optional suffix inside the quotes. */
static char *quote(const pb__topic_info *ti, const char *suffix, size_t *len) {
  size_t cap = (size_t)ti->len * 6 + strlen(suffix) + 3; /* worst case: all \uXXXX */
  pb__out tmp = {.fd = -1, .buf = malloc(cap), .cap = cap};
  if (!tmp.buf) return NULL;
  pb__json_string(&tmp, ti->name, ti->len);
  if (*suffix) { /* insert before the closing quote */
    tmp.len--;
    pb__out_write(&tmp, suffix, strlen(suffix));
    pb__out_char(&tmp, '"');
  }
  *len = tmp.len;
  return tmp.buf;
}

/* The set's slot for text q: the id + 1 holding it, or an empty slot. */
static size_t *set_slot(struct pb__qcache *c, const char *q, size_t len) {
  size_t mask = c->nslots - 1;
  for (size_t i = pb__hash_slot(q, len) & mask;; i = (i + 1) & mask) {
    size_t k = c->set[i];
    if (!k || (c->len[k - 1] == len && memcmp(c->quoted[k - 1], q, len) == 0)) return &c->set[i];
  }
}

/* Room for topics up to n (arrays and a set at most half full). */
static int qcache_reserve(struct pb__qcache *c, size_t n) {
  if (n > c->cap) {
    size_t cap = c->cap ? c->cap : 64;
    while (cap < n) cap *= 2;
    char **q = realloc(c->quoted, cap * sizeof *q);
    if (!q) return PB_ENOMEM;
    c->quoted = q;
    size_t *len = realloc(c->len, cap * sizeof *len);
    if (!len) return PB_ENOMEM;
    c->len = len;
    c->cap = cap;
  }
  if (2 * n <= c->nslots) return PB_OK;
  size_t nslots = c->nslots ? c->nslots : 128;
  while (2 * n > nslots) nslots *= 2;
  size_t *set = calloc(nslots, sizeof *set);
  if (!set) return PB_ENOMEM;
  free(c->set);
  c->set = set;
  c->nslots = nslots;
  for (size_t id = 0; id < c->n; id++) {
    size_t *slot = set_slot(c, c->quoted[id], c->len[id]);
    if (!*slot) *slot = id + 1;
  }
  return PB_OK;
}

/*
 * Quotes topic c->n: unique within the files, as two names that differ only
 * in invalid UTF-8 (each bad byte becomes U+FFFD), or a user topic called
 * "GLOBAL", would otherwise give duplicate keys. A topic whose text an earlier
 * topic has (as written, suffix included), or "GLOBAL" (reserved for the
 * iteration's own time), gets "~<id>" appended (again if that is taken too).
 */
static int qcache_add(struct pb__qcache *c, const pb__topic_info *ti) {
  size_t id = c->n, len;
  char *q = quote(ti, "", &len);
  if (!q) return PB_ENOMEM;
  size_t *slot = set_slot(c, q, len);
  bool taken = *slot || (len == 8 && memcmp(q, "\"GLOBAL\"", 8) == 0);
  char suffix[128] = "";
  for (int k = 0; taken && k < 4; k++) { /* "~<id>", then "~<id>~<id>" if a topic has that */
    size_t used = strlen(suffix);
    snprintf(suffix + used, sizeof suffix - used, "~%zu", id);
    free(q);
    q = quote(ti, suffix, &len);
    if (!q) return PB_ENOMEM;
    slot = set_slot(c, q, len);
    taken = *slot != 0;
  }
  if (!*slot) *slot = id + 1;
  c->quoted[id] = q;
  c->len[id] = len;
  c->n = id + 1;
  return PB_OK;
}

/* Brings b's cache up to the snapshot's topics and points s at it. */
static int quote_topics(pb_bench *b, snap *s) {
  struct pb__qcache *c = b->qcache;
  long pid = (long)getpid();
  if (c && c->pid != pid && c->busy) c = NULL; /* forked mid-update: abandoned (see above) */
  if (!c) c = calloc(1, sizeof *c);
  if (!c) return PB_ENOMEM;
  b->qcache = c;
  c->pid = pid;
  c->busy = true;
  int rc = qcache_reserve(c, s->topics.n);
  while (rc == PB_OK && c->n < s->topics.n) rc = qcache_add(c, topic_at(s, (uint32_t)c->n));
  c->busy = false;
  s->quoted = c->quoted;
  s->quoted_len = c->len;
  return rc;
}

void pb__bench_write_free(pb_bench *b) {
  struct pb__qcache *c = b->qcache;
  if (!c) return;
  for (size_t id = 0; id < c->n; id++) free(c->quoted[id]);
  free(c->quoted);
  free(c->len);
  free(c->set);
  free(c->stamp);
  free(c->local);
  free(c);
  b->qcache = NULL;
}

static void write_extra(pb__out *o, const snap *s, uint32_t extra) {
  if (!extra) {
    pb__out_lit(o, "null");
    return;
  }
  const char *text = *(const char **)pb__segvec_at(&s->extras, extra - 1);
  pb__out_lit(o, text);
}

/* Per-topic arrays for ntopics topics (new ones zeroed), kept in c. */
static int scratch_init(scratch *x, struct pb__qcache *c, size_t ntopics) {
  memset(x, 0, sizeof *x);
  if (ntopics > c->ntopics || !c->stamp) {
    c->busy = true; /* see struct pb__qcache */
    size_t n = ntopics ? ntopics : 1;
    uint64_t *stamp = realloc(c->stamp, n * sizeof *stamp);
    if (stamp) c->stamp = stamp;
    uint32_t *local = realloc(c->local, n * sizeof *local);
    if (local) c->local = local;
    if (!stamp || !local) return PB_ENOMEM; /* busy stays set: a child rebuilds */
    memset(c->stamp + c->ntopics, 0, (n - c->ntopics) * sizeof *stamp);
    memset(c->local + c->ntopics, 0, (n - c->ntopics) * sizeof *local);
    c->ntopics = n;
    c->busy = false;
  }
  x->stamp = c->stamp;
  x->local = c->local;
  x->epoch = &c->epoch;
  return PB_OK;
}

static int scratch_reserve(scratch *x, size_t n) {
  if (n <= x->cap && x->order) return PB_OK;
  size_t cap = n < 64 ? 64 : n;
  uint32_t *order = realloc(x->order, cap * sizeof *order);
  if (order) x->order = order;
  uint64_t *sum = realloc(x->sum, cap * sizeof *sum);
  if (sum) x->sum = sum;
  uint32_t *start = realloc(x->start, (cap + 1) * sizeof *start);
  if (start) x->start = start;
  uint64_t *calls = realloc(x->calls, cap * sizeof *calls);
  if (calls) x->calls = calls;
  if (!order || !sum || !start || !calls) return PB_ENOMEM;
  x->cap = cap;
  return PB_OK;
}

static void scratch_free(scratch *x) {
  free(x->order);
  free(x->sum);
  free(x->start);
  free(x->calls);
}

/*
 * Groups the records [first, first + n) of one iteration by topic in
 * first-use order. `topic_of(k)` gives the topic of record k. Returns the
 * number of topics; their calls are x->calls[x->start[p] .. x->start[p+1]).
 */
typedef uint32_t (*topic_fn)(const snap *s, uint64_t k);

static uint32_t group(const snap *s, scratch *x, uint64_t first, size_t n, topic_fn topic_of) {
  uint32_t nt = 0;
  uint64_t epoch = ++*x->epoch;
  for (size_t j = 0; j < n; j++) {
    uint32_t t = topic_of(s, first + j);
    if (x->stamp[t] != epoch) {
      x->stamp[t] = epoch;
      x->local[t] = nt;
      x->order[nt] = t;
      x->start[nt] = 0;
      nt++;
    }
    x->start[x->local[t]]++;
  }
  uint32_t acc = 0;
  for (uint32_t p = 0; p < nt; p++) { /* counts -> start offsets */
    uint32_t c = x->start[p];
    x->start[p] = acc;
    acc += c;
  }
  x->start[nt] = acc;
  for (size_t j = 0; j < n; j++) { /* place, then shift starts back */
    uint32_t p = x->local[topic_of(s, first + j)];
    x->calls[x->start[p]++] = first + j;
  }
  for (uint32_t p = nt; p > 0; p--) x->start[p] = x->start[p - 1];
  x->start[0] = 0;
  return nt;
}

static uint32_t rec_topic(const snap *s, uint64_t k) { return pb__rec_topic(&s->recs, k); }

static uint32_t mrec_topic(const snap *s, uint64_t k) {
  return ((const pb__mrec *)pb__segvec_at(&s->mrecs, k))->topic;
}

static void write_info(pb__out *o, const snap *s, size_t step, const pb__iter *it) {
  int64_t stop = pb__iter_stop_wall(it, &s->iwide, &s->ilead, step);
  pb__out_lit(o, "\"info\":{\"STEP_NUMBER\":");
  pb__json_int(o, (int64_t)step);
  pb__out_lit(o, ",\"START_TIME\":");
  pb__json_seconds_signed(o, it->start_wall_ns);
  pb__out_lit(o, ",\"STOP_TIME\":");
  if (stop)
    pb__json_seconds_signed(o, stop);
  else
    pb__out_char(o, '0');
  pb__out_char(o, '}');
}

/* One call: {"time":..,"crono_counter":..,"extra":..}, built in place. */
static void write_call(pb__out *o, const snap *s, uint64_t k, uint64_t crono, bool comma) {
  static const char head[] = ",{\"time\":", mid[] = ",\"crono_counter\":";
  static const char tail[] = ",\"extra\":null}";
  char *p = pb__out_room(o, 96), *q = p;
  memcpy(q, head + !comma, sizeof head - 1 - !comma);
  q += sizeof head - 1 - !comma;
  q = pb__json_seconds_at(q, pb__rec_ns(&s->recs, &s->longs, k));
  memcpy(q, mid, sizeof mid - 1);
  q = pb__json_uint_at(q + sizeof mid - 1, crono);
  uint32_t extra = pb__rec_extra(&s->recs, &s->xrecs, k);
  if (!extra) {
    memcpy(q, tail, sizeof tail - 1);
    o->len += (size_t)(q + sizeof tail - 1 - p);
    return;
  }
  memcpy(q, tail, 9); /* ,"extra": */
  o->len += (size_t)(q + 9 - p);
  write_extra(o, s, extra);
  pb__out_char(o, '}');
}

/* Separator between two iterations: a newline in full files, none in a journal line. */
static const char *iter_sep(bool journal) { return journal ? ",{" : ",\n{"; }

static void write_data_iter(pb__out *o, const snap *s, scratch *x, size_t i, bool first,
                            bool journal) {
  const pb__iter *it = iter_at(s, i);
  bool closed = pb__iter_closed(it);
  uint32_t nt = group(s, x, it->first, it->nrec, rec_topic);
  pb__out_lit(o, first ? "{" : iter_sep(journal));
  pb__out_lit(o, "\"absolutes\":{");
  for (uint32_t p = 0; p < nt; p++) {
    uint64_t sum = 0;
    for (uint32_t c = x->start[p]; c < x->start[p + 1]; c++) {
      sum += pb__rec_ns(&s->recs, &s->longs, x->calls[c]);
    }
    if (p) pb__out_char(o, ',');
    write_topic(o, s, x->order[p]);
    pb__out_char(o, ':');
    pb__json_seconds(o, sum);
  }
  if (closed) {
    pb__out_lit(o, nt ? ",\"GLOBAL\":" : "\"GLOBAL\":");
    pb__json_seconds(o, pb__iter_global(it, &s->iwide, i));
  }
  pb__out_lit(o, "},");
  write_info(o, s, i, it);
  pb__out_lit(o, ",\"individual_calls\":{");
  for (uint32_t p = 0; p < nt; p++) {
    if (p) pb__out_char(o, ',');
    write_topic(o, s, x->order[p]);
    pb__out_lit(o, ":[");
    for (uint32_t c = x->start[p]; c < x->start[p + 1]; c++) {
      write_call(o, s, x->calls[c], x->calls[c] - it->first, c > x->start[p]);
    }
    pb__out_char(o, ']');
  }
  if (closed) {
    pb__out_lit(o, nt ? ",\"GLOBAL\":[{\"time\":" : "\"GLOBAL\":[{\"time\":");
    pb__json_seconds(o, pb__iter_global(it, &s->iwide, i));
    pb__out_lit(o, ",\"crono_counter\":");
    pb__json_int(o, it->global_crono);
    pb__out_lit(o, "}]");
  }
  pb__out_lit(o, "}}");
}

/* Opens a full file (temporary + rename) or a journal (appended to). */
static int open_out(pb__out *o, const char *path, bool journal) {
  return journal ? pb__out_open_append(o, path) : pb__out_open(o, path);
}

/* Writes iterations [from, to) as a DATA file, or as one line of its journal. */
static int write_data(const char *path, const snap *s, scratch *x, size_t from, size_t to,
                      bool journal) {
  pb__out o;
  int rc = open_out(&o, path, journal);
  if (rc) return rc;
  pb__out_char(&o, '[');
  for (size_t i = from; i < to; i++) write_data_iter(&o, s, x, i, i == from, journal);
  pb__out_lit(&o, "]\n");
  return pb__out_commit(&o);
}

static void write_opt_int(pb__out *o, int64_t v) {
  if (v == PB__NONE)
    pb__out_lit(o, "null");
  else
    pb__json_int(o, v);
}

static void write_mrec(pb__out *o, const snap *s, const pb__mrec *m) {
  pb__out_lit(o, "{\"total memory usage\":");
  write_opt_int(o, m->rss);
  pb__out_lit(o, ",\"cuda memory usage\":");
  write_extra(o, s, m->cuda);
  pb__out_lit(o, ",\"top_memory_objects\":[],\"crono_counter\":");
  pb__json_int(o, m->crono);
  pb__out_lit(o, ",\"extra\":");
  write_extra(o, s, m->extra);
  pb__out_lit(o, ",\"max memory usage\":");
  write_opt_int(o, m->peak);
  pb__out_lit(o, ",\"heap memory usage\":");
  write_opt_int(o, m->heap);
  pb__out_char(o, '}');
}

static uint64_t mrec_iter(const snap *s, size_t k) {
  return ((const pb__mrec *)pb__segvec_at(&s->mrecs, k))->iter;
}

/* Writes the memory records of iterations [from, to) (sorted by iteration) as a MEMORY
 * file, or as one line of its journal. */
static int write_memory(const char *path, const snap *s, scratch *x, size_t from, size_t to,
                        bool journal) {
  pb__out o;
  int rc = open_out(&o, path, journal);
  if (rc) return rc;
  pb__out_char(&o, '[');
  size_t k = mrecs_below(&s->mrecs, from), written = 0;
  while (k < s->mrecs.n && mrec_iter(s, k) < to) {
    uint64_t iter = mrec_iter(s, k);
    size_t n = 1;
    while (k + n < s->mrecs.n && ((const pb__mrec *)pb__segvec_at(&s->mrecs, k + n))->iter == iter)
      n++;
    if (scratch_reserve(x, n) != PB_OK) {
      o.err = o.err ? o.err : 12; /* ENOMEM: the file is not committed */
      break;
    }
    uint32_t nt = group(s, x, k, n, mrec_topic);
    pb__out_lit(&o, written++ ? iter_sep(journal) : "{");
    write_info(&o, s, (size_t)iter, iter_at(s, (size_t)iter));
    pb__out_lit(&o, ",\"data\":{");
    for (uint32_t p = 0; p < nt; p++) {
      if (p) pb__out_char(&o, ',');
      write_topic(&o, s, x->order[p]);
      pb__out_lit(&o, ":[");
      for (uint32_t c = x->start[p]; c < x->start[p + 1]; c++) {
        if (c > x->start[p]) pb__out_char(&o, ',');
        write_mrec(&o, s, pb__segvec_at(&s->mrecs, x->calls[c]));
      }
      pb__out_char(&o, ']');
    }
    pb__out_lit(&o, "}}");
    k += n;
  }
  pb__out_lit(&o, "]\n");
  return pb__out_commit(&o);
}

/* ---- summary ---- */

/* The k-th smallest of v[0..n) (quickselect; v is reordered). */
static uint64_t select_kth(uint64_t *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    uint64_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
    uint64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        uint64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return v[k];
  }
  return v[k];
}

/* numpy's default percentile (linear interpolation, its lerp rounding). */
static double percentile(uint64_t *v, size_t n, double q) {
  double pos = (double)(n - 1) * (q / 100.0);
  size_t lo = (size_t)pos;
  double a = (double)select_kth(v, n, lo) / 1e9;
  if (lo + 1 >= n) return a;
  double b = (double)select_kth(v, n, lo + 1) / 1e9;
  double t = pos - (double)lo;
  double d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* Writes one topic's statistics from its per-iteration sums (reordered). */
static void write_stats(pb__out *o, uint64_t *v, size_t n) {
  unsigned __int128 sum = 0;
  uint64_t mn = UINT64_MAX, mx = 0;
  for (size_t i = 0; i < n; i++) {
    sum += v[i];
    if (v[i] < mn) mn = v[i];
    if (v[i] > mx) mx = v[i];
  }
  double p75 = percentile(v, n, 75), p25 = percentile(v, n, 25);
  double iqr = p75 - p25;
  double hi = p75 + 1.5 * iqr, lo = p25 - 1.5 * iqr;
  if (lo < 0) lo = 0;
  unsigned __int128 fsum = 0;
  size_t fn = 0;
  for (size_t i = 0; i < n; i++) {
    double x = (double)v[i] / 1e9;
    if (x <= hi && x >= lo) {
      fsum += v[i];
      fn++;
    }
  }
  pb__out_lit(o, "{\"mean\":");
  pb__json_double(o, (double)sum / (double)n / 1e9);
  pb__out_lit(o, ",\"min\":");
  pb__json_seconds(o, mx == 0 ? 0 : mn); /* the original's rule: 0 when all are 0 */
  pb__out_lit(o, ",\"max\":");
  pb__json_seconds(o, mx);
  pb__out_lit(o, ",\"quantile_filtered\":");
  if (fn)
    pb__json_double(o, (double)fsum / (double)fn / 1e9);
  else
    pb__out_lit(o, "null");
  pb__out_char(o, '}');
}

/*
 * Per topic (in order of first use over the run), the list of its
 * per-iteration sums. Topics are gathered in batches whose values fit a
 * bounded buffer, so the save's extra memory stays a small fraction of the
 * records' own, at the price of one pass over the records per batch.
 */
static int write_summary(const char *path, const snap *s, scratch *x) {
  size_t nt = s->topics.n;
  uint64_t *count = calloc(nt ? nt : 1, sizeof *count); /* iterations per topic */
  uint32_t *first_use = malloc((nt ? nt : 1) * sizeof *first_use);
  if (!count || !first_use) {
    free(count);
    free(first_use);
    return pb__fail(PB_ENOMEM, "out of memory summarising '%s'", path);
  }
  size_t nused = 0;
  if (*x->epoch < s->iters.n) *x->epoch = s->iters.n; /* group()'s stamps stay above these */
  memset(x->stamp, 0, nt * sizeof *x->stamp);         /* keyed on iteration + 1 here */
  memset(x->local, 0, nt * sizeof *x->local);         /* the in-batch flags below */
  for (size_t i = 0; i < s->iters.n; i++) {
    const pb__iter *it = iter_at(s, i);
    for (uint32_t j = 0; j < it->nrec; j++) {
      uint32_t t = rec_topic(s, it->first + j);
      if (x->stamp[t] == i + 1) continue;
      if (!count[t]) first_use[nused++] = t;
      x->stamp[t] = i + 1;
      count[t]++;
    }
  }
  size_t budget = s->iters.n > 65536 ? s->iters.n : 65536;
  size_t rec_budget = (s->recs.n * sizeof(pb__rec)) / 16 / sizeof(uint64_t);
  if (rec_budget > budget) budget = rec_budget;
  uint64_t *vals = malloc(budget * sizeof *vals);
  uint64_t *off = malloc((nt ? nt : 1) * sizeof *off); /* per topic: fill position */
  pb__out o;
  int rc = vals && off ? pb__out_open(&o, path)
                       : pb__fail(PB_ENOMEM, "out of memory summarising '%s'", path);
  if (rc) {
    free(count), free(first_use), free(vals), free(off);
    return rc;
  }
  pb__out_char(&o, '{');
  size_t b0 = 0, written = 0;
  while (b0 < nused) { /* one batch of topics [b0, b1) */
    size_t b1 = b0, used = 0;
    while (b1 < nused && (b1 == b0 || used + count[first_use[b1]] <= budget)) {
      off[first_use[b1]] = used;
      used += count[first_use[b1]];
      b1++;
    }
    if (used > budget) { /* one topic larger than the budget */
      uint64_t *bigger = realloc(vals, used * sizeof *vals);
      if (!bigger) {
        o.err = 12;
        break;
      }
      vals = bigger;
      budget = used;
    }
    memset(x->stamp, 0, nt * sizeof *x->stamp);
    for (size_t k = b0; k < b1; k++) x->local[first_use[k]] = 1; /* in batch */
    for (size_t i = 0; i < s->iters.n; i++) {
      const pb__iter *it = iter_at(s, i);
      for (uint32_t j = 0; j < it->nrec; j++) {
        uint64_t k = it->first + j;
        uint32_t t = pb__rec_topic(&s->recs, k);
        if (!x->local[t]) continue;
        if (x->stamp[t] != i + 1) {
          x->stamp[t] = i + 1;
          vals[off[t]++] = 0;
        }
        vals[off[t] - 1] += pb__rec_ns(&s->recs, &s->longs, k);
      }
    }
    for (size_t k = b0; k < b1; k++) {
      uint32_t t = first_use[k];
      x->local[t] = 0;
      if (written++) pb__out_char(&o, ',');
      write_topic(&o, s, t);
      pb__out_char(&o, ':');
      write_stats(&o, vals + off[t] - count[t], count[t]);
    }
    b0 = b1;
  }
  size_t closed = 0; /* GLOBAL over the closed iterations */
  for (size_t i = 0; i < s->iters.n && closed <= budget; i++) {
    const pb__iter *it = iter_at(s, i);
    if (pb__iter_closed(it) && closed < budget) vals[closed++] = pb__iter_global(it, &s->iwide, i);
  }
  if (closed) {
    pb__out_lit(&o, written ? ",\"GLOBAL\":" : "\"GLOBAL\":");
    write_stats(&o, vals, closed);
  }
  pb__out_lit(&o, "}\n");
  free(count), free(first_use), free(vals), free(off);
  return pb__out_commit(&o);
}

static int prepare(pb_bench *b, snap *s, scratch *x, size_t from, size_t to) {
  int rc = quote_topics(b, s);
  if (rc == PB_OK) rc = scratch_init(x, b->qcache, s->topics.n);
  if (rc == PB_OK) {
    size_t most = 0; /* the most records of one written iteration */
    for (size_t i = from; i < to; i++) {
      if (iter_at(s, i)->nrec > most) most = iter_at(s, i)->nrec;
    }
    rc = scratch_reserve(x, most);
    if (rc) scratch_free(x);
  }
  if (rc) {
    return pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
  }
  return PB_OK;
}

/*
 * The path prefix to write to: b->path, or "<path>.fork-<pid>" in a forked
 * child, so that a child never replaces the files of its parent. Caller frees.
 */
static char *file_base(const pb_bench *b) {
  long pid = (long)getpid();
  size_t n = strlen(b->path) + 32;
  char *base = malloc(n);
  if (!base) return NULL;
  if (pid == b->pid)
    snprintf(base, n, "%s", b->path);
  else
    snprintf(base, n, "%s.fork-%ld", b->path, pid);
  return base;
}

/* "<base><suffix>", or for a journal "<base><suffix without .json>.journal". */
static char *file_path(const char *base, const char *suffix, bool journal) {
  size_t n = strlen(base) + strlen(suffix) + 16;
  char *p = malloc(n);
  if (!p) return NULL;
  if (!journal)
    snprintf(p, n, "%s%s", base, suffix);
  else
    snprintf(p, n, "%s%.*s.journal", base, (int)(strlen(suffix) - 5), suffix);
  return p;
}

/* True when the tail iteration gained time or memory records since it was written. */
static bool tail_grew(const snap *s, const pb__tail *t) {
  if (!t->valid || t->iter >= s->iters.n) return false;
  const pb__iter *it = iter_at(s, t->iter);
  if (it->first + it->nrec > t->recs_end) return true;
  return s->mrecs.n > t->mrecs_end &&
         ((const pb__mrec *)pb__segvec_at(&s->mrecs, t->mrecs_end))->iter == t->iter;
}

/* The tail after writing up to `closed`: the last closed iteration, if no newer one exists. */
static pb__tail tail_after(const snap *s, size_t closed) {
  pb__tail t = {0};
  if (closed == 0 || closed != s->all_iters) return t;
  const pb__iter *it = iter_at(s, closed - 1);
  t.valid = true;
  t.iter = closed - 1;
  t.recs_end = it->first + it->nrec;
  t.mrecs_end = s->mrecs.n;
  return t;
}

int pb__bench_write(pb_bench *b, pb__write_req *req) {
  snap s;
  scratch x;
  bool full = req->from == PB__FULL;
  take_snapshot(b, &s, full && req->with_open);
  size_t closed = s.iters.n && !pb__iter_closed(&s.last) ? s.iters.n - 1 : s.iters.n;
  req->covered = closed;
  req->wrote_open = full && closed < s.iters.n;
  req->new_tail = tail_after(&s, closed);
  size_t from = full ? 0 : req->from, to = full ? s.iters.n : closed;
  if (!full && tail_grew(&s, &req->tail) && req->tail.iter < from) from = req->tail.iter;
  if (!full && from >= closed) { /* nothing new: what is on disk stays as it was */
    req->new_tail = req->tail;
    return PB_OK;
  }
  int rc = prepare(b, &s, &x, from, to);
  if (rc) return rc;
  char *base = file_base(b);
  rc = base ? pb__mkdir_parent(base) : pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
  const char *suffixes[3] = {PB_SUFFIX_SUMMARY, PB_SUFFIX_DATA, PB_SUFFIX_MEMORY};
  off_t before[3] = {-1, -1, -1}; /* journals' sizes: a failed save cuts both back */
  for (int f = 1; !full && base && f < 3; f++) {
    char *path = file_path(base, suffixes[f], true);
    struct stat st;
    if (path) before[f] = lstat(path, &st) == 0 ? st.st_size : 0;
    free(path);
  }
  for (int f = full ? 0 : 1; f < 3 && !rc; f++) {
    char *path = file_path(base, suffixes[f], !full);
    if (!path) {
      rc = pb__fail(PB_ENOMEM, "out of memory saving '%s'", b->path);
    } else if (f == 0) {
      rc = write_summary(path, &s, &x);
    } else if (f == 1) {
      rc = write_data(path, &s, &x, from, to, !full);
    } else if (full || s.mrecs.n) { /* a memory line for every data line, once tracked */
      rc = write_memory(path, &s, &x, from, to, !full);
    }
    free(path);
  }
  for (int f = 1; rc && !full && base && f < 3; f++) { /* keep the two journals in step */
    char *path = before[f] >= 0 ? file_path(base, suffixes[f], true) : NULL;
    if (path) pb__truncate_nofollow(path, before[f]); /* best effort: readers skip a bad line */
    free(path);
  }
  free(base);
  scratch_free(&x);
  return rc;
}

void pb__bench_clear_journal(pb_bench *b) {
  const char *suffixes[2] = {PB_SUFFIX_DATA, PB_SUFFIX_MEMORY};
  char *base = file_base(b);
  for (int f = 0; base && f < 2; f++) {
    char *path = file_path(base, suffixes[f], true);
    if (path) unlink(path);
    free(path);
  }
  free(base);
}
