// walk_floor.cpp - the floor under porter_bench's loader: what reading a record file and
// walking it with simdjson's on-demand API costs when nothing is stored.
//
//   walk_floor FILE [--repeat N] [--window BYTES]
//
// Reads FILE by pread() in windows cut at iteration boundaries, as the loader does
// (src/analysis/parallel.c; default 256 KiB), and times, best and median of N passes,
// CPU time of the process:
//   read       the pread()s and the copies into the window buffer alone;
//   stage 1    read + simdjson's structural indexing of each window (iterate());
//   walk       read + stage 1 + a generic walk that visits every value, reading
//              every number with get_double() and skipping strings (no storing).
// The loader's own cost above "walk" is its storing, interning and checking.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace od = simdjson::ondemand;

static double cpu_now() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) * 1e-6 +
         double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) * 1e-6;
}

// Visits every value under v; adds the numbers to sum. Returns false on an error.
static bool visit(od::value v, double &sum) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o)) return false;
      for (auto f : o) {
        od::field fl;
        if (std::move(f).get(fl)) return false;
        if (!visit(fl.value(), sum)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a)) return false;
      for (auto e : a) {
        od::value ev;
        if (std::move(e).get(ev)) return false;
        if (!visit(ev, sum)) return false;
      }
      return true;
    }
    case od::json_type::number: {
      double d;
      if (v.get_double().get(d)) return false;
      sum += d;
      return true;
    }
    default: return true;  // strings, booleans and null are skipped
  }
}

// The windows of the file: [start, stop) byte ranges of whole iterations.
static std::vector<std::pair<size_t, size_t>> cut(const std::string &text, size_t window) {
  std::vector<std::pair<size_t, size_t>> w;
  size_t s = text.find('{'), end = text.rfind(']');
  const std::string key = text.substr(s, text.find('"', s + 2) + 1 - s);  // {"<first key>"
  const std::string mark = "," + key;
  while (s < end) {
    size_t c = text.find(mark, s + window);
    if (c == std::string::npos || c > end) c = end;
    w.emplace_back(s, c);
    s = c + 1;
  }
  return w;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: walk_floor FILE [--repeat N] [--window BYTES]\n");
    return 2;
  }
  int repeat = 7;
  size_t window = 256 << 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--window")) window = size_t(atoll(argv[i + 1]));
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) return perror(argv[1]), 1;
  std::string text(size_t(lseek(fd, 0, SEEK_END)), '\0');
  if (pread(fd, &text[0], text.size(), 0) != ssize_t(text.size())) return 1;
  auto wins = cut(text, window);  // found once, outside the timings
  std::vector<char> buf(window * 4 + simdjson::SIMDJSON_PADDING);
  od::parser parser;
  const char *names[3] = {"read", "stage 1", "walk"};
  for (int mode = 0; mode < 3; mode++) {
    std::vector<double> t;
    double sum = 0;
    for (int r = 0; r < repeat; r++) {
      double c0 = cpu_now();
      for (auto [a, b] : wins) {
        size_t n = b - a;
        if (n + 2 + simdjson::SIMDJSON_PADDING > buf.size())
          buf.resize(n + 2 + simdjson::SIMDJSON_PADDING);
        buf[0] = '[';
        if (pread(fd, buf.data() + 1, n, off_t(a)) != ssize_t(n)) return 1;
        buf[n + 1] = ']';
        if (mode == 0) continue;
        od::document doc;
        if (parser.iterate(buf.data(), n + 2, buf.size()).get(doc)) return 1;
        if (mode == 1) continue;
        od::value root;
        if (doc.get_value().get(root) || !visit(root, sum)) {
          fprintf(stderr, "walk failed at byte %zu\n", a);
          return 1;
        }
      }
      t.push_back(cpu_now() - c0);
    }
    std::sort(t.begin(), t.end());
    printf("%-8s best %7.1f ms  median %7.1f ms  (%zu windows%s)\n", names[mode], t[0] * 1e3,
           t[t.size() / 2] * 1e3, wins.size(), mode == 2 ? (sum > 0 ? "" : ", no numbers") : "");
  }
  return 0;
}
