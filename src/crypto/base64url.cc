#include "crypto/base64url.h"

#include <optional>

#include "base/strings.h"

namespace vesta::crypto {
namespace {

int DigitValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out = Base64Encode(bytes, Base64Alphabet::kUrlSafe);
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// https://www.rfc-editor.org/rfc/rfc7515#appendix-C: the unpadded form; the checks here make the
// decoding one-to-one, then the shared decoder of base/strings.h does the work.
Result<std::string> Base64UrlDecode(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (DigitValue(text[i]) < 0) {
      return Invalid("base64url: character " + std::to_string(i) +
                     " is not in the URL-safe alphabet (no padding or whitespace allowed)");
    }
  }
  size_t rest = text.size() % 4;
  if (rest == 1) return Invalid("base64url: a length of 4k+1 characters encodes no whole byte");
  // The last character carries 2 (rest 2) or 4 (rest 3) bits beyond the final byte; they must be 0.
  if (rest != 0) {
    int unused_mask = rest == 2 ? 0x0F : 0x03;
    if ((DigitValue(text.back()) & unused_mask) != 0) {
      return Invalid("base64url: non-canonical encoding (unused trailing bits are not zero)");
    }
  }
  std::optional<std::string> bytes = Base64Decode(text, Base64Alphabet::kUrlSafe);
  if (!bytes) return Invalid("base64url: malformed");
  return std::move(*bytes);
}

}  // namespace vesta::crypto
