// What the .cc files of crypto/ share about OpenSSL: owning pointers, the key handle behind
// PublicKey and SigningKey, and OpenSSL's error queue turned into a Status. Internal to crypto/:
// no public header of the folder includes it.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace vesta::crypto {

namespace internal {

// Owns one EVP_PKEY. The pointer is const, the key behind it is not (OpenSSL's signing and
// verifying functions take non-const keys but do not change them; they are thread-safe on one
// key).
struct KeyHandle {
  explicit KeyHandle(EVP_PKEY* k) : pkey(k) {}
  ~KeyHandle() { EVP_PKEY_free(pkey); }
  KeyHandle(const KeyHandle&) = delete;
  KeyHandle& operator=(const KeyHandle&) = delete;

  EVP_PKEY* const pkey;
};

}  // namespace internal

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// A Status of `code` with `what`, followed by the first error of OpenSSL's (thread-local) queue
// if there is one; the queue is cleared, so that no stale error is seen by the next caller.
Status OpensslError(StatusCode code, std::string what);

// Clears OpenSSL's error queue after an expected failure (a bad signature, a malformed key).
void ClearOpensslErrors();

// `bn` as big-endian bytes: the minimum number of them when `size` is 0, else left-padded with
// zeros to exactly `size` (REQUIRES: the value fits).
std::string BnBytes(const BIGNUM* bn, int size = 0);

}  // namespace vesta::crypto
