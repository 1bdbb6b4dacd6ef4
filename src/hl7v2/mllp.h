// MLLP, the Minimal Lower Layer Protocol that carries HL7 v2 messages over TCP: each message is
// sent as a block <SB> message <EB><CR>, SB = 0x0B, EB = 0x1C, CR = 0x0D (HL7 v2.5.1 Appendix C,
// "Lower layer protocols", C.4 MLLP; the same framing as MLLP release 2 in the HL7 Transport
// Specification). No sockets here: the listener reads bytes and feeds them to a FrameDecoder, and
// writes Frame(ack).
//
//   FrameDecoder decoder(kDefaultMaxFrameBytes);
//   std::vector<std::string> frames;
//   Status s = decoder.Feed(bytes_just_read, &frames);
//   for (std::string& message : frames) ... answer each, in order ...
//   if (!s.ok()) ... answer if it can, then close the connection ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace vesta::hl7v2 {

inline constexpr char kMllpStartBlock = 0x0B;
inline constexpr char kMllpEndBlock = 0x1C;
inline constexpr char kMllpCarriageReturn = 0x0D;
// 16 MiB: a report with an embedded document (OBX-5 of type ED, base64) runs to a few MiB.
inline constexpr size_t kDefaultMaxFrameBytes = 16u << 20;

// `message` framed for sending: 0x0B message 0x1C 0x0D. REQUIRES: message holds neither 0x0B nor
// 0x1C (ER7 text never does).
std::string Frame(std::string_view message);

// Turns the bytes of one connection, as they arrive, into the messages they frame. Frames may be
// split anywhere across Feed calls, down to one byte per call, and one call may complete several.
//
// Leniency, for peers that are not exact: the frame ends at the 0x1C; the 0x0D after it is
// consumed when it comes but not waited for. Bytes outside a frame (a stray CR LF, noise between
// frames) are discarded and counted. A 0x0B inside a frame starts a new frame: the unfinished
// one is discarded and counted (the sender gave up on it).
//
// A frame whose content grows past `max_frame_bytes` is an error (kTooLarge): the decoder stops
// (every later Feed returns the same error) and the caller should answer and close the
// connection, since where the next frame starts cannot be trusted.
//
// Not thread-safe: one decoder per connection.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // Consumes `bytes`, appending each frame completed to *frames (the message without its
  // framing), in order. The frames completed before an oversize one are appended too.
  Status Feed(std::string_view bytes, std::vector<std::string>* frames);

  // Bytes received outside any frame, or in frames abandoned by a new start block.
  size_t discarded_bytes() const { return discarded_bytes_; }
  // Bytes of the frame under way (0 between frames).
  size_t pending_bytes() const { return buffer_.size(); }
  bool in_frame() const { return state_ == State::kInFrame; }
  bool failed() const { return state_ == State::kFailed; }

 private:
  enum class State { kOutside, kInFrame, kAfterEnd, kFailed };
  size_t max_frame_bytes_;
  State state_ = State::kOutside;
  std::string buffer_;
  size_t discarded_bytes_ = 0;
};

}  // namespace vesta::hl7v2
