// Message digests and the comparison of secrets.
//
//   std::string d = Sha256("abc");  // 32 raw bytes; HexEncode(d) == "ba7816bf..."
#pragma once

#include <string>
#include <string_view>

namespace vesta::crypto {

// The SHA-256 digest of `data`: 32 raw bytes (FIPS 180-4).
std::string Sha256(std::string_view data);
// The SHA-256 digest of `first` followed by `second`.
std::string Sha256(std::string_view first, std::string_view second);
// The SHA-384 digest of `data`: 48 raw bytes (FIPS 180-4).
std::string Sha384(std::string_view data);

// Whether `a` and `b` hold the same bytes, in time that depends on their lengths only, not on
// where they differ: for comparing secrets (PKCE challenges, token hashes). Different lengths
// compare unequal at once (the length is not a secret).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace vesta::crypto
