#include "crypto/openssl_util.h"

#include <openssl/err.h>

namespace vesta::crypto {

Status OpensslError(StatusCode code, std::string what) {
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    what += " (";
    what += buf;
    what += ")";
  }
  ERR_clear_error();
  return Status(code, std::move(what));
}

void ClearOpensslErrors() { ERR_clear_error(); }

std::string BnBytes(const BIGNUM* bn, int size) {
  std::string out(size > 0 ? size : BN_num_bytes(bn), '\0');
  if (size > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

}  // namespace vesta::crypto
