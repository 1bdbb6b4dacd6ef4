// Load progress on a terminal: a line on stderr rewritten in place, only when stderr is a tty
// (so logs and test output stay clean).
#pragma once

#include <cstdint>
#include <string>

namespace vesta::terminology {

class Progress {
 public:
  // Prints at most every `step` items.
  explicit Progress(std::string label, int64_t step = 8192);
  ~Progress();  // ends the line
  // Reports that `done` items have been handled.
  void Update(int64_t done);
  void SetLabel(std::string label);

 private:
  std::string label_;
  int64_t step_;
  bool enabled_;
  bool printed_ = false;
  int64_t last_ = 0;
};

}  // namespace vesta::terminology
