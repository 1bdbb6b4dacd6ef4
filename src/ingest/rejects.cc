#include "ingest/rejects.h"

#include <cerrno>
#include <cstring>

#include "json/parse.h"
#include "json/writer.h"

namespace vesta::ingest {

RejectSink::RejectSink(std::string path, size_t print_first,
                       std::function<void(const std::string&)> print)
    : path_(std::move(path)), print_first_(print_first), print_(std::move(print)) {}

RejectSink::~RejectSink() {
  if (file_ != nullptr) fclose(file_);
}

void RejectSink::Report(const std::string& where, const std::string& reason,
                        std::string_view original) {
  std::string line = "{\"where\":";
  json::WriteString(where, &line);
  line += ",\"reason\":";
  json::WriteString(reason, &line);
  if (!original.empty()) {
    line += ",\"line\":";
    Result<json::Document> doc = json::Parse(original);
    if (doc.ok()) {
      json::Write(doc->root(), json::Style::kCompact, &line);
    } else {
      json::WriteString(original, &line);
    }
  }
  line += "}\n";
  std::lock_guard lock(mu_);
  ++count_;
  if (static_cast<size_t>(count_) <= print_first_ && print_) print_(where + ": " + reason);
  if (file_ == nullptr && file_status_.ok() && !path_.empty()) {
    file_ = fopen(path_.c_str(), "w");
    written_ = file_ != nullptr;
    if (file_ == nullptr) {
      file_status_ = Status(StatusCode::kInternal,
                            "cannot write the reject file " + path_ + ": " + strerror(errno));
    }
  }
  if (file_ != nullptr && fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    file_status_ =
        Status(StatusCode::kInternal, "writing the reject file " + path_ + ": " + strerror(errno));
    fclose(file_);
    file_ = nullptr;
  }
  if (file_ != nullptr && count_ % 64 == 0) fflush(file_);
}

int64_t RejectSink::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

bool RejectSink::file_written() const {
  std::lock_guard lock(mu_);
  return written_;
}

Status RejectSink::Close() {
  std::lock_guard lock(mu_);
  if (file_ != nullptr && fclose(file_) != 0 && file_status_.ok()) {
    file_status_ =
        Status(StatusCode::kInternal, "writing the reject file " + path_ + ": " + strerror(errno));
  }
  file_ = nullptr;
  return file_status_;
}

Status RejectSink::file_status() const {
  std::lock_guard lock(mu_);
  return file_status_;
}

}  // namespace vesta::ingest
