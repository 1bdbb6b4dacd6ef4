#include "auth/passwords.h"

#include <argon2.h>

#include "crypto/random.h"

namespace vesta::auth {
namespace {

constexpr uint32_t kPasses = 2;
constexpr uint32_t kMemoryKib = 19 * 1024;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < 8) return Invalid("a password has at least 8 characters");
  if (password.size() > 1024) return Invalid("a password has at most 1,024 bytes");
  ASSIGN_OR_RETURN(std::string salt, crypto::RandomBytes(kSaltBytes));
  std::string encoded(
      argon2_encodedlen(kPasses, kMemoryKib, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  int rc =
      argon2id_hash_encoded(kPasses, kMemoryKib, kLanes, password.data(), password.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Internal(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(const std::string& stored, std::string_view password) {
  if (!stored.starts_with("$argon2id$") || password.size() > 1024) return false;
  return argon2id_verify(stored.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace vesta::auth
