#include "terminology/progress.h"

#include <unistd.h>

#include <cstdio>

namespace vesta::terminology {

Progress::Progress(std::string label, int64_t step)
    : label_(std::move(label)), step_(step), enabled_(isatty(2) == 1) {}

Progress::~Progress() {
  if (printed_) std::fputc('\n', stderr);
}

void Progress::SetLabel(std::string label) {
  if (printed_) std::fputc('\n', stderr);
  printed_ = false;
  last_ = 0;
  label_ = std::move(label);
}

void Progress::Update(int64_t done) {
  if (!enabled_ || (done - last_ < step_ && done != 0)) return;
  last_ = done;
  std::fprintf(stderr, "\r%s: %lld", label_.c_str(), static_cast<long long>(done));
  std::fflush(stderr);
  printed_ = true;
}

}  // namespace vesta::terminology
