// Load progress on a terminal: a line on stderr rewritten in place, only when stderr is a tty
// (so logs and test output stay clean).
#pragma once

#include <cstdint>
#include <string>

namespace vesta::terminology {

class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();  // ends the line
  // Reports that `done` items have been handled; prints at most every 8192 items.
  void Update(int64_t done);
  void SetLabel(std::string label);

 private:
  std::string label_;
  bool enabled_;
  bool printed_ = false;
  int64_t last_ = 0;
};

}  // namespace vesta::terminology
