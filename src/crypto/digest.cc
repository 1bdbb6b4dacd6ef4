#include "crypto/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <initializer_list>
#include <memory>

namespace vesta::crypto {
namespace {

// The algorithms fetched once from the default provider: EVP_sha256() and the like make OpenSSL 3
// fetch the implementation again on every digest, which cost as much as hashing a short record.
// Fetched implementations are immutable and may be used from any thread.
const EVP_MD* Fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) std::abort();  // the default provider always has SHA-2
  return md;
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = Fetched("SHA256");
  return md;
}

const EVP_MD* Sha384Md() {
  static const EVP_MD* md = Fetched("SHA384");
  return md;
}

// The digest of the concatenation of `parts`, without concatenating them.
std::string Digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int size = 0;
  // One context per thread, reused.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  // Digests of the default provider fail only when memory runs out: a "can't happen".
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) std::abort();
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) std::abort();
  }
  if (EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size) != 1) {
    std::abort();
  }
  out.resize(size);
  return out;
}

}  // namespace

std::string Sha256(std::string_view data) { return Digest(Sha256Md(), {data}); }
std::string Sha256(std::string_view first, std::string_view second) {
  return Digest(Sha256Md(), {first, second});
}
std::string Sha384(std::string_view data) { return Digest(Sha384Md(), {data}); }

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vesta::crypto
