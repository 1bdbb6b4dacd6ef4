#include "base/status.h"

namespace vesta {

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = message_;
  for (const Issue& issue : issues_) {
    out += "\n  ";
    if (!issue.location.empty()) out += issue.location + ": ";
    out += issue.diagnostics;
  }
  return out;
}

}  // namespace vesta
