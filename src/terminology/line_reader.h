// Reading release files that may or may not be gzip-compressed. zlib's gz* functions read plain
// files transparently, so FILE and FILE.gz go through the same path.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"

namespace vesta::terminology {

class InputFile {
 public:
  static Result<std::unique_ptr<InputFile>> Open(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to `size` bytes; returns how many (0 at the end).
  Result<size_t> Read(char* buffer, size_t size);
  // Reads the next line without its "\n" or "\r\n". Returns false at the end of the file.
  // Lines longer than kMaxLine are an error (release files have short lines).
  Result<bool> ReadLine(std::string* line);

  static constexpr size_t kMaxLine = 1 << 16;

 private:
  explicit InputFile(void* gz, std::string path) : gz_(gz), path_(std::move(path)) {}
  void* gz_;  // gzFile
  std::string path_;
};

}  // namespace vesta::terminology
