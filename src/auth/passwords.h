// Passwords of the users who log in at the authorization endpoint, kept as argon2id hashes
// (RFC 9106; libargon2 from Debian) in the PHC string form
// ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"), with the OWASP Password Storage Cheat Sheet's
// parameters: 19 MiB of memory, 2 passes, 1 lane.
//
//   ASSIGN_OR_RETURN(std::string stored, HashPassword("correct horse battery staple"));
//   bool ok = VerifyPassword(stored, attempt);
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::auth {

// kInvalid for a password under 8 or over 1,024 bytes; kInternal when hashing fails.
Result<std::string> HashPassword(std::string_view password);

// Whether `password` matches `stored` (a HashPassword result). False for a malformed `stored`.
bool VerifyPassword(const std::string& stored, std::string_view password);

}  // namespace vesta::auth
