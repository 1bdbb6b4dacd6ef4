// Cryptographically secure randomness (OpenSSL's RAND_bytes, seeded from the operating system).
// Thread-safe.
//
//   ASSIGN_OR_RETURN(std::string code, RandomToken());  // 43 URL-safe characters, 256 bits
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace vesta::crypto {

// `n` random bytes. kInternal when the generator fails (it should not once seeded).
Result<std::string> RandomBytes(size_t n);

// `n_bytes` random bytes in base64url without padding: a string of [A-Za-z0-9_-] fit for
// authorization codes, state values and token identifiers. REQUIRES: n_bytes > 0.
Result<std::string> RandomToken(size_t n_bytes = 32);

}  // namespace vesta::crypto
