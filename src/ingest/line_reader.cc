#include "ingest/line_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace vesta::ingest {
namespace {

constexpr size_t kRawBlock = 256 * 1024;    // read() size
constexpr size_t kTextBlock = 1024 * 1024;  // inflated text produced per refill

std::string MiB(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

struct LineReader::Inflater {
  z_stream z{};
  bool ready = false;
  ~Inflater() {
    if (ready) inflateEnd(&z);
  }
};

LineReader::LineReader(int fd, bool owns_fd, std::string name)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)) {}

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  if (path == "-") return FromFd(STDIN_FILENO, "-");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status(StatusCode::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<LineReader>(new LineReader(fd, /*owns_fd=*/true, path));
}

std::unique_ptr<LineReader> LineReader::FromFd(int fd, std::string name) {
  return std::unique_ptr<LineReader>(new LineReader(fd, /*owns_fd=*/false, std::move(name)));
}

bool LineReader::ReadRaw() {
  if (eof_) return false;
  if (raw_pos_ > 0) {
    raw_.erase(0, raw_pos_);
    raw_pos_ = 0;
  }
  size_t old = raw_.size();
  raw_.resize(old + kRawBlock);
  ssize_t n;
  do {
    n = read(fd_, raw_.data() + old, kRawBlock);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    raw_.resize(old);
    error_ = Status(StatusCode::kInvalid, "reading " + name_ + ": " + std::strerror(errno));
    eof_ = true;
    return false;
  }
  raw_.resize(old + static_cast<size_t>(n));
  raw_bytes_ += n;
  if (n == 0) eof_ = true;
  return n > 0;
}

bool LineReader::Fill() {
  if (!error_.ok()) return false;
  if (text_pos_ > 0) {
    text_.erase(0, text_pos_);
    text_pos_ = 0;
  }
  if (!started_) {
    // Enough bytes to see the gzip magic number or a byte order mark.
    while (raw_.size() - raw_pos_ < 3 && ReadRaw()) {
    }
    if (!error_.ok()) return false;
    started_ = true;
    std::string_view head(raw_.data() + raw_pos_, raw_.size() - raw_pos_);
    gzip_ = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
            static_cast<unsigned char>(head[1]) == 0x8b;
    if (gzip_) {
      inflater_ = std::make_unique<Inflater>();
      // 15 + 16: a gzip wrapper (RFC 1952), the largest window.
      if (inflateInit2(&inflater_->z, 15 + 16) != Z_OK) {
        error_ = Status(StatusCode::kInternal, "zlib could not start inflating " + name_);
        return false;
      }
      inflater_->ready = true;
    }
  }
  size_t before = text_.size();
  if (!gzip_) {
    if (raw_pos_ >= raw_.size() && !ReadRaw()) return false;
    text_.append(raw_, raw_pos_, std::string::npos);
    raw_pos_ = raw_.size();
  } else {
    z_stream& z = inflater_->z;
    while (text_.size() - before < kTextBlock) {
      if (raw_pos_ >= raw_.size() && !ReadRaw()) {
        if (error_.ok() && (z.total_in > 0 || z.avail_in > 0)) {
          // The input ended inside a gzip member.
          error_ = Status(StatusCode::kInvalid,
                          name_ + " ends in the middle of its gzip data (truncated?)");
        }
        break;
      }
      size_t old = text_.size();
      text_.resize(old + kTextBlock);
      z.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_pos_);
      z.avail_in = static_cast<uInt>(raw_.size() - raw_pos_);
      z.next_out = reinterpret_cast<Bytef*>(text_.data() + old);
      z.avail_out = static_cast<uInt>(kTextBlock);
      int rc = inflate(&z, Z_NO_FLUSH);
      raw_pos_ = raw_.size() - z.avail_in;
      text_.resize(old + kTextBlock - z.avail_out);
      if (rc == Z_STREAM_END) {
        // Another member may follow (RFC 1952 section 2.2: "a series of members").
        inflateReset(&z);
        z.total_in = 0;
        while (raw_pos_ >= raw_.size() && ReadRaw()) {
        }
        if (raw_pos_ >= raw_.size()) break;
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = Status(StatusCode::kInvalid, name_ + ": corrupt gzip data (" +
                                                  std::string(z.msg ? z.msg : "zlib error") + ")");
        eof_ = true;
        break;
      }
    }
  }
  if (!bom_checked_ && text_.size() >= 3) {
    bom_checked_ = true;
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) text_.erase(0, 3);  // a UTF-8 byte order mark
  }
  return text_.size() > before;
}

Result<bool> LineReader::ReadLine(std::string* line, size_t max_bytes) {
  size_t scanned = 0;  // bytes of the pending line already searched for '\n'
  bool skipping = false;
  while (true) {
    size_t nl = text_.find('\n', text_pos_ + scanned);
    if (nl != std::string::npos) {
      ++line_number_;
      if (skipping || nl - text_pos_ > max_bytes) {
        text_pos_ = nl + 1;
        return Status(StatusCode::kTooLarge,
                      "the line is longer than " + MiB(max_bytes) + " (not read)");
      }
      size_t end = nl;
      if (end > text_pos_ && text_[end - 1] == '\r') --end;
      line->assign(text_, text_pos_, end - text_pos_);
      text_pos_ = nl + 1;
      return true;
    }
    scanned = text_.size() - text_pos_;
    if (scanned > max_bytes) {
      // Too long: drop what is held and skip to the next line end.
      skipping = true;
      text_.clear();
      text_pos_ = 0;
      scanned = 0;
    }
    size_t held = text_.size() - text_pos_;
    if (!Fill()) {
      if (!error_.ok()) return error_;
      if (skipping) {
        ++line_number_;
        return Status(StatusCode::kTooLarge,
                      "the line is longer than " + MiB(max_bytes) + " (not read)");
      }
      if (text_pos_ >= text_.size()) return false;
      ++line_number_;
      size_t end = text_.size();
      if (text_[end - 1] == '\r') --end;
      line->assign(text_, text_pos_, end - text_pos_);
      text_pos_ = text_.size();
      return true;
    }
    // Fill() compacted text_: the pending line now starts at 0 and `held` bytes were searched.
    scanned = held;
  }
}

Result<std::string> LineReader::ReadAll(size_t max_bytes) {
  while (Fill()) {
    if (text_.size() - text_pos_ > max_bytes) {
      return Status(StatusCode::kTooLarge, name_ + " is larger than " + MiB(max_bytes) +
                                               ": a JSON file is read whole, and this one "
                                               "would not fit the limit (split it into NDJSON)");
    }
  }
  if (!error_.ok()) return error_;
  std::string out = text_.substr(text_pos_);
  text_.clear();
  text_pos_ = 0;
  return out;
}

}  // namespace vesta::ingest
