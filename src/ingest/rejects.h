// The report of what an import rejected: the first lines on the console, all of them in a file.
//
// Each reject is one line `where: reason` on the console (where is "file:line", "file:entry N
// (fullUrl)", "-:line" for standard input) and one NDJSON line in the reject file:
//
//   {"where":"Patient.ndjson:12","reason":"...","line":{"resourceType":"Patient",...}}
//
// `line` is what was read (a Bundle entry: its resource, with its id set and the Bundle's
// references rewritten), as JSON when it parses, so that `jq -c .line` gives NDJSON to fix and
// import again; as a JSON string when it does not parse; absent when it was a whole file too big
// to copy. The file is created (truncated) at the first reject only.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::ingest {

class RejectSink {
 public:
  // `print` receives the console lines (the first `print_first` rejects, without a newline).
  RejectSink(std::string path, size_t print_first, std::function<void(const std::string&)> print);
  ~RejectSink();

  void Report(const std::string& where, const std::string& reason, std::string_view original);

  // Closes the file; the error if it could not be written whole.
  Status Close();

  int64_t count() const;
  const std::string& path() const { return path_; }
  // Whether the file was written, and the error when it could not be.
  bool file_written() const;
  Status file_status() const;

 private:
  std::string path_;
  size_t print_first_;
  std::function<void(const std::string&)> print_;
  mutable std::mutex mu_;
  FILE* file_ = nullptr;
  bool written_ = false;
  Status file_status_;
  int64_t count_ = 0;
};

}  // namespace vesta::ingest
