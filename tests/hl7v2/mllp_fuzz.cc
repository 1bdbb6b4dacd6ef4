// libFuzzer target for the MLLP frame decoder (built with -DVESTA_FUZZ=ON and clang;
// docs/hl7v2.md). The input is a byte stream; its first byte chooses the frame bound, the next
// ones where the stream is cut into reads. Fed whole or in those pieces, the decoder must give
// the same frames, the same discarded count and the same outcome; and re-framing the frames
// decodes them again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "hl7v2/mllp.h"

namespace {

using vesta::Status;
using vesta::hl7v2::Frame;
using vesta::hl7v2::FrameDecoder;

struct Outcome {
  std::vector<std::string> frames;
  size_t discarded = 0;
  bool ok = true;
};

Outcome Decode(size_t bound, std::string_view stream, std::string_view cuts) {
  FrameDecoder decoder(bound);
  Outcome out;
  size_t i = 0, k = 0;
  while (i < stream.size() && out.ok) {
    size_t n = k < cuts.size() ? static_cast<unsigned char>(cuts[k++]) % 16 + 1 : stream.size();
    Status s = decoder.Feed(stream.substr(i, n), &out.frames);
    out.ok = s.ok();
    i += n;
  }
  out.discarded = decoder.discarded_bytes();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t bound = static_cast<unsigned char>(in[0]) % 64 + 1;
  size_t ncuts = static_cast<unsigned char>(in[1]) % 8;
  std::string_view rest = in.substr(2);
  std::string_view cuts = rest.substr(0, std::min(ncuts, rest.size()));
  std::string_view stream = rest.substr(cuts.size());

  Outcome whole = Decode(bound, stream, {});
  Outcome pieces = Decode(bound, stream, cuts);
  if (whole.ok != pieces.ok || whole.frames != pieces.frames) std::abort();
  if (whole.ok && whole.discarded != pieces.discarded) std::abort();
  for (const std::string& f : whole.frames) {
    if (f.size() > bound) std::abort();
    Outcome again = Decode(bound, Frame(f), {});
    if (!again.ok || again.frames.size() != 1 || again.frames[0] != f || again.discarded != 0) {
      std::abort();
    }
  }
  return 0;
}
