#include "hl7v2/mllp.h"

namespace vesta::hl7v2 {

std::string Frame(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 3);
  out.push_back(kMllpStartBlock);
  out.append(message);
  out.push_back(kMllpEndBlock);
  out.push_back(kMllpCarriageReturn);
  return out;
}

Status FrameDecoder::Feed(std::string_view bytes, std::vector<std::string>* frames) {
  auto too_large = [this] {
    return Status(StatusCode::kTooLarge,
                  "MLLP frame over " + std::to_string(max_frame_bytes_) + " bytes");
  };
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kFailed:
        return too_large();
      case State::kAfterEnd:
        state_ = State::kOutside;
        if (bytes[i] == kMllpCarriageReturn) ++i;  // the CR that ends the block
        break;
      case State::kOutside: {
        size_t start = bytes.find(kMllpStartBlock, i);
        size_t stop = start == std::string_view::npos ? bytes.size() : start;
        discarded_bytes_ += stop - i;
        i = stop;
        if (start != std::string_view::npos) {
          state_ = State::kInFrame;
          ++i;
        }
        break;
      }
      case State::kInFrame: {
        size_t end = bytes.find_first_of(std::string_view("\x0B\x1C", 2), i);
        size_t stop = end == std::string_view::npos ? bytes.size() : end;
        if (buffer_.size() + (stop - i) > max_frame_bytes_) {
          state_ = State::kFailed;
          buffer_.clear();
          buffer_.shrink_to_fit();
          return too_large();
        }
        buffer_.append(bytes.substr(i, stop - i));
        i = stop;
        if (end == std::string_view::npos) break;
        ++i;
        if (bytes[end] == kMllpStartBlock) {  // a new frame before this one ended
          discarded_bytes_ += buffer_.size() + 1;
          buffer_.clear();
        } else {
          frames->push_back(std::move(buffer_));
          buffer_.clear();
          state_ = State::kAfterEnd;
        }
        break;
      }
    }
  }
  return state_ == State::kFailed ? too_large() : Status::Ok();
}

}  // namespace vesta::hl7v2
