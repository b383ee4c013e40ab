// json_simdjson.cpp - the record-file walkers, on simdjson's on-demand API.
//
// The only C++ file of porter_bench: it walks the three record files in one
// forward pass each and hands every value straight to the C builder
// (internal.h), so no document tree is ever built. simdjson picks its
// stage-1 kernel (AVX2, SSE4.2 or portable) at run time, so the build needs
// no CPU-specific flags.

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "internal.h"

static_assert(simdjson::SIMDJSON_PADDING <= PB__JSON_PADDING,
              "buffer padding too small for simdjson");

namespace {

namespace od = simdjson::ondemand;

// Printf into the error message.
__attribute__((format(printf, 2, 3))) void set_msg(pb__jerr *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

using simdjson::error_code;

// What a topic key at one position of an object was the last time (topic_memo).
struct memo_slot {
  uint32_t id = UINT32_MAX;
  bool plain = false;       // the name holds no quote and no backslash: a raw compare is exact
  bool short_name = false;  // at most 15 bytes: compared as the two words below
  uint64_t word[2] = {0, 0}, mask[2] = {0, 0};  // the name and its closing quote, masked
};

// The topics of the last "absolutes" or "individual_calls" object by position: the
// next iteration names the same topics in the same order, so a key is first compared
// raw with the name seen at its position (no unescaping, no hashing).
struct topic_memo {
  static constexpr size_t N = 32;
  memo_slot slot[N];
};

// One walk: the document, the error sink and where we are (for messages).
struct walk {
  od::document doc;
  const char *buf;
  size_t len;
  pb__jerr *e;
  topic_memo abs_memo, calls_memo;

  // Byte offset of the token the iterator stands on (end of file if none).
  size_t where() {
    const char *p = nullptr;
    if (doc.current_location().get(p) != simdjson::SUCCESS || p == nullptr) return len;
    if (p < buf || p > buf + len) return len;
    return size_t(p - buf);
  }

  // Records an error; `what` says what was expected where.
  __attribute__((format(printf, 3, 4))) int fail(error_code err, const char *what, ...) {
    e->code = PB_EDATA;
    e->offset = where();
    char head[256];
    va_list ap;
    va_start(ap, what);
    vsnprintf(head, sizeof head, what, ap);
    va_end(ap);
    if (err == simdjson::INCORRECT_TYPE || err == simdjson::SUCCESS) {
      set_msg(e, "%s", head);
    } else if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
      set_msg(e, "%s (number out of range or malformed)", head);
    } else if (err == simdjson::DEPTH_ERROR) {
      set_msg(e, "%s (nesting deeper than the parser's limit)", head);
    } else if (e->offset >= len || err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ||
               err == simdjson::TAPE_ERROR) {
      e->truncated = true;
      set_msg(e, "the file is truncated or its brackets do not balance (%s)",
              simdjson::error_message(err));
    } else {
      set_msg(e, "%s (%s)", head, simdjson::error_message(err));
    }
    return PB_EDATA;
  }

  int nomem() {
    e->code = PB_ENOMEM;
    e->offset = where();
    set_msg(e, "out of memory");
    return PB_ENOMEM;
  }
};

// The JSON type of v as a word, for messages; does not consume v.
static const char *kind_of(od::value &v) {
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS) return "invalid JSON";
  switch (t) {
    case od::json_type::array: return "a list";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "true/false";
    case od::json_type::null: return "null";
  }
  return "something else";
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Whether c may follow a number in valid JSON (white space or a structural character).
static inline bool ends_number(char c) {
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Exact powers of ten, 1e0..1e22 (every one is a double).
static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Eight ASCII digits at p (unaligned, little-endian): whether they are, and their value
// (the SWAR steps of simdjson and fast_float). p may run into the buffer's padding.
static inline uint64_t load8(const char *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
static inline bool eight_digits(uint64_t v) {
  return (((v & 0xF0F0F0F0F0F0F0F0u) | (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) ==
          0x3333333333333333u);
}
static inline uint64_t eight_value(uint64_t v) {
  const uint64_t mask = 0x000000FF000000FFu, mul1 = 0x000F424000000064u, mul2 = 0x0000271000000001u;
  v -= 0x3030303030303030u;
  v = v * 10 + (v >> 8);
  return (((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32;
}

// Appends the digits at p to w (p moves past them); returns how many.
static inline size_t read_digits(const char *&p, uint64_t &w) {
  const char *s = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (eight_digits(load8(p))) {
    w = w * 100000000u + eight_value(load8(p));
    p += 8;
  }
#endif
  while (is_digit(*p)) w = w * 10 + uint64_t(*p++ - '0');
  return size_t(p - s);
}

// The common number of a record file ("0.001071958", "1795673620.0144472", "42"):
// -?digits(.digits)? with at most 19 digits. Below 2^53 with at most 22 decimals it is
// one exact integer divided by an exact power of ten, correctly rounded (Clinger's fast
// path, simdjson's own); else from_chars (correctly rounded too). Either way the double
// is the one get_double() gives. Anything else (exponents, more digits, malformed text)
// returns false for get_double() to read and check.
static inline bool fast_double(const char *p, double &out) {
  const char *const first = p;
  const bool neg = *p == '-';
  p += neg;
  if (!is_digit(*p) || (*p == '0' && is_digit(p[1]))) return false;
  uint64_t w = 0;
  size_t digits = read_digits(p, w), decimals = 0;
  if (*p == '.') {
    ++p;
    decimals = read_digits(p, w);
    if (decimals == 0) return false;
    digits += decimals;
  }
  if (!ends_number(*p) || digits > 19) return false; /* w may have wrapped */
  if (w <= (uint64_t(1) << 53) - 1 && decimals <= 22) {
    const double d = decimals ? double(w) / POW10[decimals] : double(w);
    out = neg ? -d : d;
    return true;
  }
  const std::from_chars_result r = std::from_chars(first, p, out);
  return r.ec == std::errc() && r.ptr == p;
}

// The double of a valid JSON number with more than 19 digits, correctly rounded (as
// Python's float() and strtod() read it). simdjson 3.0.1's get_double() can return a
// wrong value for these: "0.1234567890123456789012" reads as 0.0017082781258626382
// (its 64-bit digit accumulator overflows when the integer part is 0; simdjson issue
// #2093, fixed in later releases). Keeps out when the text is not such a number.
static void reread_long_number(const char *p, double &out) {
  const char *e = p;
  int digits = 0;
  while (is_digit(*e) || *e == '-' || *e == '+' || *e == '.' || *e == 'e' || *e == 'E')
    digits += is_digit(*e++);
  if (digits <= 19) return;
  double d = 0;
  const std::from_chars_result r = std::from_chars(p, e, d);
  if (r.ec == std::errc() && r.ptr == e && std::isfinite(d)) out = d;
}

// Reads a number (integers included) as a double.
static error_code get_num(od::value &v, double &out) {
  const char *p = v.raw_json_token().data();
  if (fast_double(p, out)) return simdjson::SUCCESS;
  error_code err = v.get_double().get(out);
  if (err == simdjson::SUCCESS && !std::isfinite(out)) return simdjson::NUMBER_OUT_OF_RANGE;
  if (err == simdjson::SUCCESS) reread_long_number(p, out);
  return err;
}

// Reads a number or null (NAN).
static error_code get_num_or_null(od::value &v, double &out) {
  bool is_null = false;
  error_code err = v.is_null().get(is_null);
  if (err) return err;
  if (is_null) {
    out = NAN;
    return simdjson::SUCCESS;
  }
  return get_num(v, out);
}

static error_code get_counter(od::value &v, uint32_t &out) {
  const char *p = v.raw_json_token().data();
  if (is_digit(*p) && (*p != '0' || !is_digit(p[1]))) { /* the common case: up to 9 digits */
    uint32_t u = 0;
    int n = 0;
    for (; n < 10 && is_digit(p[n]); n++) u = u * 10 + uint32_t(p[n] - '0');
    if (n < 10 && ends_number(p[n])) {
      out = u;
      return simdjson::SUCCESS;
    }
  }
  uint64_t u = 0;
  error_code err = v.get_uint64().get(u);
  if (err) return err;
  if (u > UINT32_MAX) return simdjson::NUMBER_OUT_OF_RANGE;
  out = uint32_t(u);
  return simdjson::SUCCESS;
}

#define PB_NAME(sv) int((sv).size() > 64 ? 64 : (sv).size()), (sv).data()

// Whether the raw key k is exactly lit (a literal without quotes or backslashes): its
// bytes, then the closing quote (the buffer's padding covers a key at its very end).
template <size_t N>
static inline bool key_is(const od::raw_json_string &k, const char (&lit)[N]) {
  const char *r = k.raw();
  size_t i = 0;
  for (; i + 8 <= N - 1; i += 8) /* word by word: inlined, where memcmp is a call */
    if (load8(r + i) != load8(lit + i)) return false;
  for (; i < N - 1; i++)
    if (r[i] != lit[i]) return false;
  return r[N - 1] == '"';
}

// The key of field f as one of n names, read unescaped: for a key that none of the raw
// compares of the caller (key_is) matched, as a name may be spelt with escapes. -1 when
// it is none of them, -2 when the key is malformed (simdjson's error in err).
static int escaped_key(od::field &f, const char *const *names, int n, error_code &err) {
  std::string_view key;
  if ((err = f.unescaped_key().get(key))) return -2;
  for (int k = 0; k < n; k++)
    if (key == names[k]) return k;
  return -1;
}

// Remembers in slot that topic id, called name, stood at its position.
static void remember(memo_slot &slot, uint32_t id, std::string_view name) {
  slot.id = id;
  slot.plain = name.find_first_of("\\\"") == std::string_view::npos;
  slot.short_name = slot.plain && name.size() < 16;
  if (!slot.short_name) return;
  char text[16] = {0}, ones[16] = {0};
  std::memcpy(text, name.data(), name.size());
  text[name.size()] = '"';
  std::memset(ones, 0xFF, name.size() + 1);
  for (int k = 0; k < 2; k++) {
    slot.word[k] = load8(text + 8 * k);
    slot.mask[k] = load8(ones + 8 * k);
  }
}

// The topic (interned in r) named by the key of field f, the position-th of its object;
// its name in name. Returns 0, PB_EDATA (a malformed key: simdjson's error in err) or
// PB_ENOMEM.
static int field_topic(pb_record *r, od::field &f, topic_memo &m, size_t position, uint32_t &topic,
                       std::string_view &name, error_code &err) {
  memo_slot *slot = position < topic_memo::N ? &m.slot[position] : nullptr;
  if (slot && slot->plain) {
    const std::string_view known(r->topics.names[slot->id], r->topics.lens[slot->id]);
    const char *raw = f.key().raw(); /* 16 bytes on are readable: the buffer's padding */
    if (slot->short_name ? ((load8(raw) & slot->mask[0]) == slot->word[0] &&
                            (load8(raw + 8) & slot->mask[1]) == slot->word[1])
                         : f.key().unsafe_is_equal(known)) {
      topic = slot->id;
      name = known;
      return 0;
    }
  }
  std::string_view key;
  if ((err = f.unescaped_key().get(key))) return PB_EDATA;
  topic = pb__rec_topic(r, key.data(), key.size());
  if (topic == UINT32_MAX) return PB_ENOMEM;
  name = std::string_view(r->topics.names[topic], r->topics.lens[topic]);
  if (slot) remember(*slot, topic, name);
  return 0;
}

// A time of "info": a number of epoch seconds, or NAN for "[]" (the
// original's start()/gstop() workflow writes "START_TIME": [] for an
// iteration that start() opened without a time).
static error_code get_time(od::value &v, double &out) {
  od::json_type t;
  if (error_code err = v.type().get(t)) return err;
  if (t != od::json_type::array) return get_num(v, out);
  od::array arr;
  bool empty = false;
  if (error_code err = v.get_array().get(arr)) return err;
  if (error_code err = arr.is_empty().get(empty)) return err;
  out = NAN;
  return empty ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
}

// "info": {"STEP_NUMBER", "START_TIME", "STOP_TIME"}, all three required.
static int walk_info(walk &w, od::value &v, pb_iter_info *info, size_t it) {
  static const char *const keys[3] = {"STEP_NUMBER", "START_TIME", "STOP_TIME"};
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %zu: \"info\" must be an object, got %s", it, kind_of(v));
  bool seen[3] = {false, false, false};
  for (auto fr : obj) {
    od::field f;
    error_code kerr = simdjson::SUCCESS;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %zu: bad \"info\" member", it);
    const od::raw_json_string rk = f.key();
    const int k = key_is(rk, "STEP_NUMBER")  ? 0
                  : key_is(rk, "START_TIME") ? 1
                  : key_is(rk, "STOP_TIME")  ? 2
                                             : escaped_key(f, keys, 3, kerr);
    if (k == -2) return w.fail(kerr, "iteration %zu: expected a key in \"info\"", it);
    od::value val = f.value();
    double d = 0;
    if (k == 0) {
      if (error_code err = get_num(val, d))
        return w.fail(err, "iteration %zu: expected a number for \"STEP_NUMBER\", got %s", it,
                      kind_of(val));
      info->step_number = (d >= -9.2e18 && d <= 9.2e18) ? int64_t(d) : 0;
      seen[0] = true;
    } else if (k > 0) {
      if (error_code err = get_time(val, d))
        return w.fail(err, "iteration %zu: expected a number or [] for \"%s\", got %s", it, keys[k],
                      kind_of(val));
      (k == 1 ? info->start_time : info->stop_time) = d;
      seen[k] = true;
    }
  }
  for (int k = 0; k < 3; k++)
    if (!seen[k])
      return w.fail(simdjson::SUCCESS, "iteration %zu: \"info\" lacks the required key \"%s\"", it,
                    keys[k]);
  return 0;
}

// "absolutes": {topic: seconds}
static int walk_absolutes(walk &w, od::value &v, pb_record *r, uint32_t it) {
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %u: \"absolutes\" must be an object of topic -> seconds, got %s",
                  it, kind_of(v));
  size_t position = 0;
  for (auto fr : obj) {
    od::field f;
    std::string_view key;
    uint32_t topic = 0;
    error_code kerr = simdjson::SUCCESS;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad \"absolutes\" member", it);
    if (int rc = field_topic(r, f, w.abs_memo, position++, topic, key, kerr))
      return rc == PB_ENOMEM
                 ? w.nomem()
                 : w.fail(kerr, "iteration %u: expected a topic name in \"absolutes\"", it);
    double d = 0;
    od::value val = f.value();
    if (error_code err = get_num(val, d))
      return w.fail(err,
                    "iteration %u: expected a number of seconds for absolutes[\"%.*s\"], got %s",
                    it, PB_NAME(key), kind_of(val));
    if (pb__rec_add_absolute(r, it, topic, d)) return w.nomem();
  }
  return 0;
}

// One call: {"time", "crono_counter", "extra"}
static int walk_call(walk &w, od::value &v, pb_record *r, uint32_t it, uint32_t topic,
                     std::string_view name) {
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %u: calls of \"%.*s\" must be objects, got %s", it, PB_NAME(name),
                  kind_of(v));
  double t = NAN;
  uint32_t crono = UINT32_MAX;
  for (auto fr : obj) {
    od::field f;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad call member", it);
    // fixed keys are compared raw: no unescaping on the hot path
    const od::raw_json_string key = f.key();
    od::value val = f.value();
    if (key_is(key, "time")) {
      if (error_code err = get_num(val, t))
        return w.fail(err,
                      "iteration %u: expected a number for \"time\" of a call of \"%.*s\", got %s",
                      it, PB_NAME(name), kind_of(val));
    } else if (key_is(key, "crono_counter")) {
      if (error_code err = get_counter(val, crono))
        return w.fail(
            err,
            "iteration %u: expected a non-negative integer for \"crono_counter\" of a call "
            "of \"%.*s\", got %s",
            it, PB_NAME(name), kind_of(val));
    }
  }
  if (std::isnan(t) || crono == UINT32_MAX)
    return w.fail(simdjson::SUCCESS, "iteration %u: a call of \"%.*s\" lacks \"%s\"", it,
                  PB_NAME(name), std::isnan(t) ? "time" : "crono_counter");
  if (pb__rec_add_call(r, it, topic, crono, t)) return w.nomem();
  return 0;
}

// "individual_calls": {topic: [call...]}
static int walk_calls(walk &w, od::value &v, pb_record *r, uint32_t it) {
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err,
                  "iteration %u: \"individual_calls\" must be an object of topic -> list, got %s",
                  it, kind_of(v));
  size_t position = 0;
  for (auto fr : obj) {
    od::field f;
    std::string_view key;
    uint32_t topic = 0;
    error_code kerr = simdjson::SUCCESS;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad \"individual_calls\" member", it);
    if (int rc = field_topic(r, f, w.calls_memo, position++, topic, key, kerr))
      return rc == PB_ENOMEM ? w.nomem()
                             : w.fail(kerr,
                                      "iteration %u: expected a topic name in "
                                      "\"individual_calls\"",
                                      it);
    od::value val = f.value();
    od::array arr;
    if (error_code err = val.get_array().get(arr))
      return w.fail(err, "iteration %u: individual_calls[\"%.*s\"] must be a list, got %s", it,
                    PB_NAME(key), kind_of(val));
    for (auto cr : arr) {
      od::value cv;
      if (error_code err = std::move(cr).get(cv))
        return w.fail(err, "iteration %u: bad element in individual_calls[\"%.*s\"]", it,
                      PB_NAME(key));
      if (int rc = walk_call(w, cv, r, it, topic, key)) return rc;
    }
  }
  return 0;
}

// Checks that nothing but white space follows the top-level value.
static int walk_end(walk &w, const char *what) {
  const char *p = nullptr;
  if (w.doc.current_location().get(p) == simdjson::SUCCESS && p != nullptr && p < w.buf + w.len)
    return w.fail(simdjson::SUCCESS, "expected the end of the file after the %s", what);
  return 0;
}

static int walk_begin(walk &w, od::parser &p, const char *buf, size_t len, pb__jerr *e) {
  if (len > 0xFFFFFFFFu - PB__JSON_PADDING) {
    e->code = PB_EDATA;
    e->offset = 0;
    set_msg(e, "file too large for the parser (4 GiB at most)");
    return PB_EDATA;
  }
  w.buf = buf;
  w.len = len;
  w.e = e;
  e->code = 0;
  e->truncated = false;
  e->offset = SIZE_MAX;
  e->msg[0] = 0;
  if (error_code err = p.iterate(buf, len, len + PB__JSON_PADDING).get(w.doc)) {
    e->code = PB_EDATA;
    e->offset = 0;
    if (err == simdjson::EMPTY)
      set_msg(e, "expected a JSON value, the file is empty");
    else
      set_msg(e, "not a JSON document (%s)", simdjson::error_message(err));
    return PB_EDATA;
  }
  return 0;
}

// The keys every iteration of a data file and of a memory file must have.
static const char *const DATA_KEYS[3] = {"absolutes", "info", "individual_calls"};
static const char *const MEMORY_KEYS[2] = {"info", "data"};

// Fails naming the first of keys[0..n) whose bit is not set in seen.
static int require_keys(walk &w, unsigned seen, const char *const *keys, int n, const char *what,
                        uint32_t it) {
  for (int k = 0; k < n; k++)
    if (!(seen & (1u << k)))
      return w.fail(simdjson::SUCCESS, "%s %u lacks the required key \"%s\"", what, it, keys[k]);
  return 0;
}

static int parse_data(od::parser &p, const char *buf, size_t len, pb_record *r, pb__jerr *e) {
  walk w;
  if (int rc = walk_begin(w, p, buf, len, e)) return rc;
  od::array iters;
  if (error_code err = w.doc.get_array().get(iters))
    return w.fail(err, "expected a list of iterations ('[')");
  for (auto ir : iters) {
    pb__rec_mark mark;
    pb__rec_mark_get(r, &mark);
    int rc = 0;
    unsigned seen = 0;
    od::value iv;
    od::object obj;
    uint32_t it = 0;
    if (error_code err = std::move(ir).get(iv)) {
      rc = w.fail(err, "expected an iteration object");
    } else if (error_code err2 = iv.get_object().get(obj)) {
      rc = w.fail(err2, "expected an iteration object ('{'), got %s", kind_of(iv));
    } else if (pb__rec_begin_iter(r, &it)) {
      rc = w.nomem();
    } else {
      for (auto fr : obj) {
        od::field f;
        error_code kerr = simdjson::SUCCESS;
        if (error_code ferr = std::move(fr).get(f)) {
          rc = w.fail(ferr, "iteration %u: bad member", it);
          break;
        }
        const od::raw_json_string rk = f.key();
        const int k = key_is(rk, "absolutes")          ? 0
                      : key_is(rk, "info")             ? 1
                      : key_is(rk, "individual_calls") ? 2
                                                       : escaped_key(f, DATA_KEYS, 3, kerr);
        if (k == -2) {
          rc = w.fail(kerr, "iteration %u: expected a key", it);
          break;
        }
        od::value val = f.value();
        if (k == 0)
          rc = walk_absolutes(w, val, r, it), seen |= 1u;
        else if (k == 1)
          rc = walk_info(w, val, &r->infos[it], it), seen |= 2u;
        else if (k == 2)
          rc = walk_calls(w, val, r, it), seen |= 4u;
        if (rc) break;
      }
      if (rc == 0) rc = require_keys(w, seen, DATA_KEYS, 3, "iteration", it);
    }
    if (rc) {
      pb__rec_mark_reset(r, &mark);
      return rc;
    }
  }
  return walk_end(w, "list of iterations");
}

// "cuda memory usage": null or {"allocated", "reserved", "max_allocated", "max_reserved", ...}
static int walk_cuda(walk &w, od::value &v, pb_mem_record *m, uint32_t it) {
  bool is_null = false;
  if (error_code err = v.is_null().get(is_null))
    return w.fail(err, "iteration %u: bad \"cuda memory usage\"", it);
  if (is_null) return 0;
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %u: \"cuda memory usage\" must be null or an object, got %s", it,
                  kind_of(v));
  static const char *const names[PB_CUDA_N] = {"allocated",    "reserved",    "max_allocated",
                                               "max_reserved", "device_used", "device_total"};
  for (auto fr : obj) {
    od::field f;
    std::string_view key;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad \"cuda memory usage\" member", it);
    if (error_code err = f.unescaped_key().get(key))
      return w.fail(err, "iteration %u: expected a key in \"cuda memory usage\"", it);
    for (int k = 0; k < PB_CUDA_N; k++) {
      if (key == names[k]) {
        od::value val = f.value();
        if (error_code err = get_num_or_null(val, m->cuda[k]))
          return w.fail(err, "iteration %u: expected a number of bytes for \"%s\", got %s", it,
                        names[k], kind_of(val));
      }
    }
  }
  return 0;
}

static int walk_mem_record(walk &w, od::value &v, pb_record *r, uint32_t it, uint32_t topic,
                           std::string_view name) {
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %u: memory records of \"%.*s\" must be objects, got %s", it,
                  PB_NAME(name), kind_of(v));
  pb_mem_record m;
  m.iter = it;
  m.topic = topic;
  m.crono = UINT32_MAX;
  m.pad_ = 0;
  m.rss = m.peak = m.heap = NAN;
  for (double &c : m.cuda) c = NAN;
  for (auto fr : obj) {
    od::field f;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad memory record member", it);
    const od::raw_json_string key = f.key();
    od::value val = f.value();
    double *dst = nullptr;
    const char *kname = nullptr;
    if (key_is(key, "total memory usage"))
      dst = &m.rss, kname = "total memory usage";
    else if (key_is(key, "max memory usage"))
      dst = &m.peak, kname = "max memory usage";
    else if (key_is(key, "heap memory usage"))
      dst = &m.heap, kname = "heap memory usage";
    if (dst) {
      if (error_code err = get_num_or_null(val, *dst))
        return w.fail(err, "iteration %u: expected a number of bytes or null for \"%s\", got %s",
                      it, kname, kind_of(val));
    } else if (key_is(key, "crono_counter")) {
      if (error_code err = get_counter(val, m.crono))
        return w.fail(err,
                      "iteration %u: expected a non-negative integer for \"crono_counter\", got %s",
                      it, kind_of(val));
    } else if (key_is(key, "cuda memory usage")) {
      if (int rc = walk_cuda(w, val, &m, it)) return rc;
    }
  }
  if (m.crono == UINT32_MAX)
    return w.fail(simdjson::SUCCESS,
                  "iteration %u: a memory record of \"%.*s\" lacks \"crono_counter\"", it,
                  PB_NAME(name));
  if (pb__rec_add_mem(r, &m)) return w.nomem();
  return 0;
}

static int walk_mem_data(walk &w, od::value &v, pb_record *r, uint32_t it) {
  od::object obj;
  if (error_code err = v.get_object().get(obj))
    return w.fail(err, "iteration %u: \"data\" must be an object of topic -> list, got %s", it,
                  kind_of(v));
  for (auto fr : obj) {
    od::field f;
    std::string_view key;
    if (error_code err = std::move(fr).get(f))
      return w.fail(err, "iteration %u: bad \"data\" member", it);
    if (error_code err = f.unescaped_key().get(key))
      return w.fail(err, "iteration %u: expected a topic name in \"data\"", it);
    const uint32_t topic = pb__rec_mem_topic(r, key.data(), key.size());
    if (topic == UINT32_MAX) return w.nomem();
    od::value val = f.value();
    od::array arr;
    if (error_code err = val.get_array().get(arr))
      return w.fail(err, "iteration %u: data[\"%.*s\"] must be a list, got %s", it, PB_NAME(key),
                    kind_of(val));
    for (auto mr : arr) {
      od::value mv;
      if (error_code err = std::move(mr).get(mv))
        return w.fail(err, "iteration %u: bad element in data[\"%.*s\"]", it, PB_NAME(key));
      if (int rc = walk_mem_record(w, mv, r, it, topic, key)) return rc;
    }
  }
  return 0;
}

// STEP_NUMBER in a memory iteration's "info"; PB__STEP_UNSET when absent or not a
// number (the memory walker reads nothing else of "info", and never fails on it).
static int64_t mem_info_step(od::value &v) {
  od::object obj;
  if (v.get_object().get(obj)) return PB__STEP_UNSET;
  for (auto fr : obj) {
    od::field f;
    std::string_view key;
    if (std::move(fr).get(f) || f.unescaped_key().get(key)) return PB__STEP_UNSET;
    if (key != "STEP_NUMBER") continue;
    od::value val = f.value();
    double d = 0;
    if (get_num(val, d)) return PB__STEP_UNSET;
    return (d >= -9.2e18 && d <= 9.2e18) ? int64_t(d) : 0;
  }
  return PB__STEP_UNSET;
}

static int parse_memory(od::parser &p, const char *buf, size_t len, pb_record *r, pb__jerr *e) {
  walk w;
  if (int rc = walk_begin(w, p, buf, len, e)) return rc;
  od::array iters;
  if (error_code err = w.doc.get_array().get(iters))
    return w.fail(err, "expected a list of memory iterations ('[')");
  for (auto ir : iters) {
    pb__rec_mark mark;
    pb__rec_mark_get(r, &mark);
    int rc = 0;
    unsigned seen = 0;
    od::value iv;
    od::object obj;
    uint32_t it = 0;
    if (error_code err = std::move(ir).get(iv)) {
      rc = w.fail(err, "expected a memory iteration object");
    } else if (error_code err2 = iv.get_object().get(obj)) {
      rc = w.fail(err2, "expected a memory iteration object ('{'), got %s", kind_of(iv));
    } else if (pb__rec_begin_mem_iter(r, &it)) {
      rc = w.nomem();
    } else {
      for (auto fr : obj) {
        od::field f;
        std::string_view key;
        if (error_code ferr = std::move(fr).get(f)) {
          rc = w.fail(ferr, "memory iteration %u: bad member", it);
          break;
        }
        if (error_code kerr = f.unescaped_key().get(key)) {
          rc = w.fail(kerr, "memory iteration %u: expected a key", it);
          break;
        }
        if (key == "data") {
          od::value val = f.value();
          seen |= 2u;
          rc = walk_mem_data(w, val, r, it);
          if (rc) break;
        } else if (key == "info") {
          seen |= 1u;
          od::value val = f.value();
          pb__rec_set_mem_step(r, it, mem_info_step(val));
        }
      }
      if (rc == 0) rc = require_keys(w, seen, MEMORY_KEYS, 2, "memory iteration", it);
    }
    if (rc) {
      pb__rec_mark_reset(r, &mark);
      return rc;
    }
  }
  return walk_end(w, "list of memory iterations");
}

static int parse_summary(od::parser &p, const char *buf, size_t len, pb_record *r, pb__jerr *e) {
  walk w;
  if (int rc = walk_begin(w, p, buf, len, e)) return rc;
  od::object top;
  if (error_code err = w.doc.get_object().get(top))
    return w.fail(err, "expected an object of topic -> statistics ('{')");
  static const char *const names[4] = {"mean", "min", "max", "quantile_filtered"};
  for (auto fr : top) {
    od::field f;
    std::string_view key;
    if (error_code err = std::move(fr).get(f)) return w.fail(err, "bad summary member");
    if (error_code err = f.unescaped_key().get(key)) return w.fail(err, "expected a topic name");
    std::string topic(key);
    od::value val = f.value();
    od::object st;
    if (error_code err = val.get_object().get(st))
      return w.fail(err, "summary of \"%.*s\" must be an object, got %s", PB_NAME(key),
                    kind_of(val));
    double v[4] = {NAN, NAN, NAN, NAN};
    for (auto sr : st) {
      od::field sf;
      std::string_view sk;
      if (error_code err = std::move(sr).get(sf)) return w.fail(err, "bad statistic");
      if (error_code err = sf.unescaped_key().get(sk))
        return w.fail(err, "expected a statistic name");
      for (int k = 0; k < 4; k++) {
        if (sk == names[k]) {
          od::value sv = sf.value();
          if (error_code err = get_num_or_null(sv, v[k]))
            return w.fail(err, "expected a number for \"%s\" of \"%.*s\", got %s", names[k],
                          int(topic.size() > 64 ? 64 : topic.size()), topic.data(), kind_of(sv));
        }
      }
    }
    if (pb__rec_add_saved(r, topic.data(), topic.size(), v)) return w.nomem();
  }
  return walk_end(w, "summary object");
}

// The text of a scalar value ("" for lists and objects, which are skipped).
static int scalar_text(walk &w, od::value &val, std::string &out) {
  od::json_type t;
  if (error_code err = val.type().get(t)) return w.fail(err, "bad value");
  if (t == od::json_type::object || t == od::json_type::array) return 0;
  std::string_view raw;
  if (t == od::json_type::string) {
    if (error_code err = val.get_string().get(raw)) return w.fail(err, "bad string");
  } else {
    raw = val.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t' ||
            raw.back() == ',' || raw.back() == '}' || raw.back() == ']'))
      raw.remove_suffix(1);
  }
  out.assign(raw);
  return 0;
}

// A string as one shell word: as is when it holds only safe characters,
// else single-quoted (a quote inside as '\''), so that a command line can be
// pasted back into a shell.
static void append_shell_word(std::string &out, std::string_view w) {
  bool safe = !w.empty();
  for (char c : w)
    safe = safe && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && strchr("_./=:,+@%-", c) != nullptr));
  if (safe) {
    out.append(w);
    return;
  }
  out.push_back('\'');
  for (char c : w) {
    if (c == '\'')
      out.append("'\\''");
    else
      out.push_back(c);
  }
  out.push_back('\'');
}

// A list of scalars as one line: its elements separated by spaces, strings
// as shell words (the run's "command_line"). Nested lists and objects are
// left out.
static int list_text(walk &w, od::value &val, std::string &out) {
  od::array arr;
  if (error_code err = val.get_array().get(arr)) return w.fail(err, "bad list");
  for (auto er : arr) {
    od::value ev;
    od::json_type t;
    if (error_code err = std::move(er).get(ev)) return w.fail(err, "bad list element");
    if (error_code err = ev.type().get(t)) return w.fail(err, "bad list element");
    std::string item;
    if (t == od::json_type::string) {
      std::string_view sv;
      if (error_code err = ev.get_string().get(sv)) return w.fail(err, "bad string");
      if (!out.empty()) out.push_back(' ');
      append_shell_word(out, sv);
      continue;
    }
    if (int rc = scalar_text(w, ev, item)) return rc;
    if (item.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(item);
  }
  return 0;
}

static int parse_metadata(od::parser &p, const char *buf, size_t len, char **out, pb__jerr *e) {
  walk w;
  *out = nullptr;
  if (int rc = walk_begin(w, p, buf, len, e)) return rc;
  od::object top;
  if (error_code err = w.doc.get_object().get(top)) return w.fail(err, "expected an object ('{')");
  std::string text;
  for (auto fr : top) {
    od::field f;
    std::string_view key;
    if (error_code err = std::move(fr).get(f)) return w.fail(err, "bad member");
    if (error_code err = f.unescaped_key().get(key)) return w.fail(err, "expected a key");
    std::string k(key);
    od::value val = f.value();
    od::json_type t;
    if (error_code err = val.type().get(t)) return w.fail(err, "bad value");
    if (t == od::json_type::object) {
      // one level of nesting, as "key.member: value"
      od::object sub;
      if (error_code err = val.get_object().get(sub)) return w.fail(err, "bad object");
      for (auto sr : sub) {
        od::field sf;
        std::string_view sk;
        if (error_code err = std::move(sr).get(sf)) return w.fail(err, "bad member");
        if (error_code err = sf.unescaped_key().get(sk)) return w.fail(err, "expected a key");
        od::value sv = sf.value();
        std::string line;
        if (int rc = scalar_text(w, sv, line)) return rc;
        if (!line.empty())
          text.append(k).append(".").append(sk).append(": ").append(line).append("\n");
      }
      continue;
    }
    std::string line;
    if (int rc = t == od::json_type::array ? list_text(w, val, line) : scalar_text(w, val, line))
      return rc;
    if (!line.empty()) text.append(k).append(": ").append(line).append("\n");
  }
  *out = static_cast<char *>(malloc(text.size() + 1));
  if (!*out) return w.nomem();
  memcpy(*out, text.c_str(), text.size() + 1);
  return 0;
}

}  // namespace

// A parser is reused for the files of one load: its buffers (sized to the
// largest file) are allocated and faulted in once.
struct pb__json_parser {
  od::parser p;
};

extern "C" pb__json_parser *pb__json_parser_new(void) {
  return new (std::nothrow) pb__json_parser();
}
extern "C" void pb__json_parser_free(pb__json_parser *jp) { delete jp; }

extern "C" int pb__json_parse_data(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                                   pb__jerr *e) {
  return parse_data(jp->p, buf, len, r, e);
}
extern "C" int pb__json_parse_memory(pb__json_parser *jp, const char *buf, size_t len, pb_record *r,
                                     pb__jerr *e) {
  return parse_memory(jp->p, buf, len, r, e);
}
extern "C" int pb__json_parse_summary(pb__json_parser *jp, const char *buf, size_t len,
                                      pb_record *r, pb__jerr *e) {
  return parse_summary(jp->p, buf, len, r, e);
}
extern "C" int pb__json_parse_metadata(pb__json_parser *jp, const char *buf, size_t len, char **out,
                                       pb__jerr *e) {
  return parse_metadata(jp->p, buf, len, out, e);
}
extern "C" const char *pb__json_kernel(void) {
  static std::string name = simdjson::get_active_implementation()->name();
  return name.c_str();
}
