#include "terminology/line_reader.h"

#include <zlib.h>

#include <climits>

namespace vesta::terminology {

Result<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return NotFound("cannot open " + path);
  gzbuffer(gz, 1 << 17);
  return std::unique_ptr<InputFile>(new InputFile(gz, path));
}

InputFile::~InputFile() { gzclose(static_cast<gzFile>(gz_)); }

Result<size_t> InputFile::Read(char* buffer, size_t size) {
  unsigned chunk = size > UINT_MAX / 2 ? UINT_MAX / 2 : static_cast<unsigned>(size);
  int n = gzread(static_cast<gzFile>(gz_), buffer, chunk);
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &err);
    return Invalid("reading " + path_ + ": " + (msg != nullptr ? msg : "error"));
  }
  return static_cast<size_t>(n);
}

Result<bool> InputFile::ReadLine(std::string* line) {
  line->clear();
  gzFile gz = static_cast<gzFile>(gz_);
  for (size_t i = 0; i <= kMaxLine; ++i) {
    int c = gzgetc(gz);
    if (c == -1) {
      int err = 0;
      const char* msg = gzerror(gz, &err);
      if (err != Z_OK && err != Z_STREAM_END) {
        return Invalid("reading " + path_ + ": " + (msg != nullptr ? msg : "error"));
      }
      return !line->empty();
    }
    if (c == '\n') {
      if (!line->empty() && line->back() == '\r') line->pop_back();
      return true;
    }
    line->push_back(static_cast<char>(c));
  }
  return Invalid("reading " + path_ + ": a line is longer than 64 KiB");
}

}  // namespace vesta::terminology
