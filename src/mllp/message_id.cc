#include "mllp/message_id.h"

#include "base/strings.h"
#include "crypto/digest.h"

namespace vesta::mllp {

std::string Designator(const hl7v2::HierarchicDesignator& d) {
  return d.universal_id.empty() ? d.namespace_id : d.namespace_id + "&" + d.universal_id;
}

namespace {

// SHA-256 over MSH-3, MSH-4, MSH-10 and the text as sent over MLLP (segments ended by CR,
// however a file or sender ended them), in hex: what tells one message from another.
std::string MessageHash(const hl7v2::Header& header, std::string_view text) {
  std::string normal;
  normal.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    normal.push_back(text[i] == '\n' ? '\r' : text[i]);
  }
  while (!normal.empty() && normal.back() == '\r') normal.pop_back();
  const std::string key = Designator(header.sending_application) + "|" +
                          Designator(header.sending_facility) + "|" + header.control_id + "|" +
                          HexEncode(crypto::Sha256(normal));
  return HexEncode(crypto::Sha256(key));
}

// `s` cut to `max` characters of a FHIR id ([A-Za-z0-9\-\.]); any other byte becomes '.'.
std::string IdCharacters(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    out.push_back(ok ? c : '.');
  }
  return out;
}

}  // namespace

std::string MessageId(const hl7v2::Header& header, std::string_view text) {
  // https://hl7.org/fhir/R4/datatypes.html#id: at most 64 characters of [A-Za-z0-9\-\.]. 3 +
  // 14 + 1 + 20 + 1 + 24 = 63.
  std::string digits;
  for (char c : header.date_time) {
    if (c < '0' || c > '9') break;
    if (digits.size() < 14) digits.push_back(c);
  }
  std::string id = "v2-";
  if (!digits.empty()) id += digits + "-";
  if (!header.control_id.empty()) id += IdCharacters(header.control_id, 20) + "-";
  return id + MessageHash(header, text).substr(0, 24);
}

std::string LegacyMessageId(const hl7v2::Header& header, std::string_view text) {
  return "v2-" + MessageHash(header, text).substr(0, 40);
}

}  // namespace vesta::mllp
