// The parse ceiling of the import benchmark (bench/import/import_bench.py): reads NDJSON files
// line by line and parses every line fully into a simdjson DOM (the library Vesta's json::Parse
// wraps), walking each document to count its elements so that nothing can be skipped. No
// validation, no FHIR, no store: what `vesta import` could at most reach if parsing were all it
// did.
//
//   parse_ceiling [--threads N] FILE...
//
// With N threads each file is cut into N byte ranges at line starts and thread t parses range t
// of every file, each thread with its own parser and read buffer. Prints one line:
//   resources=R bytes=B seconds=S elements=E threads=N errors=X
// Exit status 1 when a file cannot be read or a line does not parse.
#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBlock = 4 << 20;  // bytes read per call; a longer line grows the buffer

struct Range {
  const char* path;
  uint64_t begin;
  uint64_t end;
};

struct Totals {
  uint64_t resources = 0;
  uint64_t bytes = 0;
  uint64_t elements = 0;
  uint64_t errors = 0;
  bool io_error = false;
};

// Every value of the document, containers and keys included.
uint64_t CountElements(simdjson::dom::element e) {
  uint64_t n = 1;
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      for (simdjson::dom::element child : array) n += CountElements(child);
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : object) n += 1 + CountElements(field.value);
      break;
    }
    default:
      break;
  }
  return n;
}

// The offset of the first line start at or after `at` (the file's size when there is none).
uint64_t NextLineStart(const char* path, uint64_t at, uint64_t size) {
  if (at == 0 || at >= size) return std::min(at, size);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return size;
  char buf[65536];
  uint64_t pos = at - 1;  // a line starts at `at` when the byte before it is a newline
  while (pos < size) {
    ssize_t got = pread(fd, buf, sizeof buf, static_cast<off_t>(pos));
    if (got <= 0) break;
    const void* nl = memchr(buf, '\n', static_cast<size_t>(got));
    if (nl != nullptr) {
      close(fd);
      return pos + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    }
    pos += static_cast<uint64_t>(got);
  }
  close(fd);
  return size;
}

// Parses every line of the byte ranges. Lines are parsed in place in the read buffer: the bytes
// after a line (the next lines, or the buffer's SIMDJSON_PADDING) are readable, as simdjson
// requires, so no line is copied.
void ParseRanges(const std::vector<Range>& ranges, Totals* t) {
  simdjson::dom::parser parser;
  std::vector<char> buf(kBlock + simdjson::SIMDJSON_PADDING);
  for (const Range& r : ranges) {
    int fd = open(r.path, O_RDONLY);
    if (fd < 0) {
      t->io_error = true;
      continue;
    }
    uint64_t pos = r.begin;
    size_t have = 0;  // bytes of a partial line kept at the buffer's start
    bool eof = false;
    while (!eof || have > 0) {
      if (!eof) {
        if (buf.size() - simdjson::SIMDJSON_PADDING - have < kBlock / 2) {
          buf.resize(buf.size() * 2);  // one line longer than the block
        }
        size_t room = buf.size() - simdjson::SIMDJSON_PADDING - have;
        size_t want = static_cast<size_t>(std::min<uint64_t>(room, r.end - pos));
        ssize_t got = want > 0 ? pread(fd, buf.data() + have, want, static_cast<off_t>(pos)) : 0;
        if (got < 0) {
          t->io_error = true;
          break;
        }
        pos += static_cast<uint64_t>(got);
        have += static_cast<size_t>(got);
        eof = got == 0 || pos >= r.end;
      }
      size_t start = 0;
      while (start < have) {
        const char* line = buf.data() + start;
        const void* nl = memchr(line, '\n', have - start);
        if (nl == nullptr && !eof) break;  // the rest of this line is in the next read
        size_t len =
            nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - line) : have - start;
        start += len + (nl != nullptr ? 1 : 0);
        t->bytes += len + (nl != nullptr ? 1 : 0);
        if (len == 0 || (len == 1 && line[0] == '\r')) continue;
        simdjson::dom::element doc;
        if (parser.parse(line, len, false).get(doc) != simdjson::SUCCESS) {
          ++t->errors;
          continue;
        }
        ++t->resources;
        t->elements += CountElements(doc);
      }
      memmove(buf.data(), buf.data() + start, have - start);
      have -= start;  // at the end of the range nothing is left: the last line was taken
    }
    close(fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  std::vector<const char*> files;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::max(1, atoi(argv[++i]));
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "usage: parse_ceiling [--threads N] FILE...\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<Range>> work(static_cast<size_t>(threads));
  for (const char* f : files) {
    int fd = open(f, O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "parse_ceiling: cannot open %s\n", f);
      return 1;
    }
    uint64_t size = static_cast<uint64_t>(lseek(fd, 0, SEEK_END));
    close(fd);
    uint64_t begin = 0;
    for (int k = 0; k < threads; ++k) {
      uint64_t end = k + 1 == threads ? size : NextLineStart(f, size * (k + 1) / threads, size);
      end = std::max(end, begin);
      work[static_cast<size_t>(k)].push_back(Range{f, begin, end});
      begin = end;
    }
  }
  std::vector<Totals> totals(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (size_t k = 0; k < work.size(); ++k) {
    pool.emplace_back(ParseRanges, std::cref(work[k]), &totals[k]);
  }
  for (std::thread& th : pool) th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Totals sum;
  for (const Totals& t : totals) {
    sum.resources += t.resources;
    sum.bytes += t.bytes;
    sum.elements += t.elements;
    sum.errors += t.errors;
    sum.io_error = sum.io_error || t.io_error;
  }
  printf("resources=%llu bytes=%llu seconds=%.6f elements=%llu threads=%d errors=%llu\n",
         static_cast<unsigned long long>(sum.resources), static_cast<unsigned long long>(sum.bytes),
         seconds, static_cast<unsigned long long>(sum.elements), threads,
         static_cast<unsigned long long>(sum.errors));
  return sum.io_error || sum.errors > 0 ? 1 : 0;
}
