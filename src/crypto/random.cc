#include "crypto/random.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <climits>

#include "crypto/base64url.h"

namespace vesta::crypto {

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  if (n > INT_MAX ||
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return Internal("the random number generator failed");
  }
  return out;
}

Result<std::string> RandomToken(size_t n_bytes) {
  ASSIGN_OR_RETURN(std::string bytes, RandomBytes(n_bytes));
  return Base64UrlEncode(bytes);
}

}  // namespace vesta::crypto
