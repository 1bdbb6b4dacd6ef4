// Reading import inputs as text: a file or standard input, plain or gzip-compressed, streamed in
// fixed-size blocks so that a file of any size costs the same memory.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<LineReader> in, LineReader::Open("Patient.ndjson.gz"));
//   std::string line;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, in->ReadLine(&line));
//     if (!more) break;
//     ...
//   }
//
// gzip is recognised by its magic bytes (1f 8b, RFC 1952 section 2.3.1), not by the file's name,
// and inflated with zlib as it is read; concatenated gzip members (as pigz and bgzip write) are
// read one after the other. A UTF-8 byte order mark at the start of the text is dropped, and a line
// may end in LF or CRLF.
//
// Not thread-safe: one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace vesta::ingest {

// The largest line, or whole JSON file, that the importer holds in memory (1 GiB).
inline constexpr size_t kMaxTextBytes = size_t{1} << 30;

class LineReader {
 public:
  // Opens `path` for reading; "-" is standard input (not closed on destruction).
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  // Reads from `fd`, which the caller keeps open while the reader lives.
  static std::unique_ptr<LineReader> FromFd(int fd, std::string name);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, without its line end, into `*line`. false at the end of the input. A line
  // longer than `max_bytes` is an error (kTooLarge) after which the reader skips to the next line,
  // so that the caller may report it and go on. Corrupt gzip data or a read error: kInvalid, and
  // the reader is at its end.
  Result<bool> ReadLine(std::string* line, size_t max_bytes = kMaxTextBytes);
  // Everything left, at most `max_bytes` of text (kTooLarge beyond, naming the limit).
  Result<std::string> ReadAll(size_t max_bytes = kMaxTextBytes);

  // Bytes taken from the file so far (compressed bytes for gzip): progress against its size.
  int64_t raw_bytes_read() const { return raw_bytes_; }
  // The line number of the line ReadLine returned last (1 for the first line).
  int64_t line_number() const { return line_number_; }
  bool gzip() const { return gzip_; }
  const std::string& name() const { return name_; }

 private:
  struct Inflater;
  LineReader(int fd, bool owns_fd, std::string name);
  // Refills text_ from the input; false at the end. Sets error_ on a failure.
  bool Fill();
  bool ReadRaw();

  int fd_ = -1;
  bool owns_fd_ = false;
  std::string name_;
  bool started_ = false;  // the first block was examined (gzip magic, byte order mark)
  bool gzip_ = false;
  bool bom_checked_ = false;
  bool eof_ = false;  // no more raw input
  Status error_;
  std::unique_ptr<Inflater> inflater_;
  std::string raw_;  // compressed input not yet inflated (gzip) or plain text not yet consumed
  size_t raw_pos_ = 0;
  std::string text_;  // text not yet returned
  size_t text_pos_ = 0;
  int64_t raw_bytes_ = 0;
  int64_t line_number_ = 0;
};

}  // namespace vesta::ingest
