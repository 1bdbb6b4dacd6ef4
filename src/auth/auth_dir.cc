#include "auth/auth_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/key_set.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::auth {
namespace {

namespace fs = std::filesystem;

constexpr int kKeptKeys = 3;  // the signing key and the two before it

Status MakeDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot make " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return Status::Ok();
}

// Writes `text` to `path` (mode 0600) through a temporary file and a rename, so that readers
// see the old file or the new one, never a part.
Status WriteFileAtomically(const fs::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Internal("cannot write " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      close(fd);
      return Internal("cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) return Internal("cannot write " + tmp);
  if (rename(tmp.c_str(), path.c_str()) != 0) return Internal("cannot rename " + tmp);
  return Status::Ok();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The key files, newest first (their names start with the creation time).
std::vector<fs::path> KeyFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".pem") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().string() > b.filename().string();
  });
  return files;
}

Result<crypto::SigningKey> NewKey(const fs::path& dir) {
  ASSIGN_OR_RETURN(crypto::SigningKey key,
                   crypto::SigningKey::Generate(crypto::JwsAlgorithm::kES384));
  ASSIGN_OR_RETURN(std::string pem, key.ToPem());
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%020lld", static_cast<long long>(now));
  RETURN_IF_ERROR(WriteFileAtomically(dir / (std::string(stamp) + "-" + key.kid() + ".pem"), pem));
  return key;
}

bool IsClientId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string ClientJson(const RegisteredClient& c) {
  std::string scopes;
  for (const ResourceScope& s : c.scopes) scopes += (scopes.empty() ? "" : " ") + s.ToString();
  std::string out = "{\"client_id\":";
  json::WriteString(c.client_id, &out);
  out += ",\"scope\":";
  json::WriteString(scopes, &out);
  out += ",\"jwks\":" + c.jwks + "}\n";
  return out;
}

Result<RegisteredClient> ParseClient(const std::string& text, const std::string& file) {
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) return Internal(file + ": " + doc.status().message());
  RegisteredClient c;
  c.client_id = std::string(doc->root().FindString("client_id"));
  Result<ScopeSet> scopes = ParseScopes(doc->root().FindString("scope"));
  if (!scopes.ok()) return Internal(file + ": " + scopes.status().message());
  c.scopes = scopes->resources;
  const json::Value* jwks = doc->root().Find("jwks");
  if (jwks == nullptr) return Internal(file + ": no jwks");
  c.jwks = json::ToString(*jwks);
  return c;
}

}  // namespace

Result<std::vector<crypto::SigningKey>> AuthDirectory::LoadOrCreateKeys() const {
  const fs::path dir = fs::path(dir_) / "keys";
  RETURN_IF_ERROR(MakeDir(dir));
  std::vector<crypto::SigningKey> keys;
  for (const fs::path& f : KeyFiles(dir)) {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(f));
    Result<crypto::SigningKey> key = crypto::SigningKey::FromPem(pem, crypto::JwsAlgorithm::kES384);
    if (!key.ok()) return Invalid(f.string() + ": " + key.status().message());
    keys.push_back(std::move(key).value());
  }
  if (keys.empty()) {
    ASSIGN_OR_RETURN(crypto::SigningKey key, NewKey(dir));
    keys.push_back(std::move(key));
  }
  return keys;
}

Result<crypto::SigningKey> AuthDirectory::RotateKeys() const {
  const fs::path dir = fs::path(dir_) / "keys";
  RETURN_IF_ERROR(MakeDir(dir));
  ASSIGN_OR_RETURN(crypto::SigningKey key, NewKey(dir));
  std::vector<fs::path> files = KeyFiles(dir);
  for (size_t i = kKeptKeys; i < files.size(); ++i) {
    std::error_code ec;
    fs::remove(files[i], ec);
  }
  return key;
}

Status AuthDirectory::AddClient(const RegisteredClient& client) const {
  if (!IsClientId(client.client_id)) {
    return Invalid("a client id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  }
  if (client.scopes.empty()) return Invalid("a client needs at least one scope");
  for (const ResourceScope& s : client.scopes) {
    if (s.context != ScopeContext::kSystem) {
      return Invalid("a backend services client is granted system/ scopes only, not " +
                     s.ToString());
    }
  }
  Result<crypto::KeySet> keys = crypto::KeySet::Parse(client.jwks);
  if (!keys.ok()) return Invalid("the client's JWKS: " + keys.status().message());
  const fs::path dir = fs::path(dir_) / "clients";
  RETURN_IF_ERROR(MakeDir(dir));
  const fs::path file = dir / (client.client_id + ".json");
  if (fs::exists(file)) return Conflict("client " + client.client_id + " is already registered");
  RegisteredClient stored = client;
  stored.jwks = keys->ToJwks();  // the public keys only, whatever the file held
  return WriteFileAtomically(file, ClientJson(stored));
}

Status AuthDirectory::RemoveClient(const std::string& client_id) const {
  if (!IsClientId(client_id)) return NotFound("no client " + client_id);
  std::error_code ec;
  if (!fs::remove(fs::path(dir_) / "clients" / (client_id + ".json"), ec)) {
    return NotFound("no client " + client_id);
  }
  return Status::Ok();
}

Result<RegisteredClient> AuthDirectory::FindClient(const std::string& client_id) const {
  if (!IsClientId(client_id)) return NotFound("no client " + client_id);
  const fs::path file = fs::path(dir_) / "clients" / (client_id + ".json");
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) return NotFound("no client " + client_id);
  return ParseClient(*text, file.string());
}

Result<std::vector<RegisteredClient>> AuthDirectory::ListClients() const {
  std::vector<RegisteredClient> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "clients", ec)) {
    if (e.path().extension() != ".json") continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(e.path()));
    ASSIGN_OR_RETURN(RegisteredClient c, ParseClient(text, e.path().string()));
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
  return out;
}

}  // namespace vesta::auth
