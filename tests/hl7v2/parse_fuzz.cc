// libFuzzer target for the HL7 v2 parser and the ACK builder (built with -DVESTA_FUZZ=ON and
// clang; docs/hl7v2.md). Whatever bytes come in:
//  - Parse accepts or refuses them without a crash, and every value of an accepted message can
//    be read, decoded and re-escaped: Unescape(Escape(text)) == text;
//  - the ACK built for them (from the parsed header, or from the header salvaged from a refused
//    message) parses, and echoes the control id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hl7v2/ack.h"
#include "hl7v2/parse.h"

namespace {

using namespace vesta::hl7v2;

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckLeaf(const Value& v, const Delimiters& d) {
  std::string text = v.text();
  if (d.escape != '\0') Check(Unescape(Escape(text, d), d) == text);
}

void Walk(const Message& m) {
  const Delimiters& d = m.delimiters();
  for (const Segment& s : m.segments()) {
    Check(s.id().size() == 3);
    for (int f = 0; f <= s.field_count() + 1; ++f) {
      Value field = s.Field(f);
      CheckLeaf(field, d);
      for (const Value& r : field.Repetitions()) {
        for (int c = 1; c <= r.component_count(); ++c) {
          Value comp = r.Component(c);
          for (int sc = 1; sc <= comp.subcomponent_count(); ++sc) {
            CheckLeaf(comp.Subcomponent(sc), d);
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  AckOptions options{"ACK1", "20240101000000", "2.5.1", "P"};
  Error error;
  vesta::Result<Message> m = Parse(in, &error);
  Header header;
  AckRequest request;
  if (m.ok()) {
    Walk(*m);
    header = m->header();
    Check(!header.message_code.empty() && !header.control_id.empty());
  } else {
    Check(!m.status().message().empty() && !error.message.empty());
    header = SalvageHeader(in);
    request.outcome = Outcome::kReject;
    request.errors.push_back(error);
  }
  if (ModeOf(header) == AckMode::kEnhanced) request.kind = AckKind::kCommit;
  std::string ack = BuildAck(header, request, options);
  vesta::Result<Message> parsed = Parse(ack);
  if (!parsed.ok()) std::abort();
  Check(parsed->header().control_id == "ACK1");
  Check(parsed->Get("MSA-2").text() == header.control_id);
  Check(parsed->segment_count() == 2 + (m.ok() ? 0 : 1));
  return 0;
}
