#include "auth/auth_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
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

bool IsName(std::string_view id, std::string_view extra) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [&](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}
bool IsClientId(std::string_view id) { return IsName(id, "._-"); }
bool IsUsername(std::string_view id) { return IsName(id, "._@-"); }

std::string_view KindName(ClientKind k) {
  switch (k) {
    case ClientKind::kBackend:
      return "backend";
    case ClientKind::kPublic:
      return "public";
    case ClientKind::kConfidential:
      return "confidential";
  }
  return "backend";
}

// An exact redirect URI a client may register: https, or http on loopback (native apps and
// development, RFC 8252 §7.3), without a fragment.
bool IsRedirectUri(std::string_view uri) {
  if (uri.find('#') != std::string_view::npos) return false;
  if (uri.starts_with("https://") && uri.size() > 8) return true;
  return uri.starts_with("http://127.0.0.1") || uri.starts_with("http://localhost") ||
         uri.starts_with("http://[::1]");
}

void AddField(std::string* out, std::string_view name, std::string_view value) {
  if (out->size() > 1) out->push_back(',');
  json::WriteString(name, out);
  out->push_back(':');
  json::WriteString(value, out);
}

std::string ClientJson(const RegisteredClient& c) {
  std::string out = "{";
  AddField(&out, "client_id", c.client_id);
  AddField(&out, "kind", KindName(c.kind));
  AddField(&out, "scope", c.scopes.ToString());
  out += ",\"redirect_uris\":[";
  for (size_t i = 0; i < c.redirect_uris.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::WriteString(c.redirect_uris[i], &out);
  }
  out += "]";
  if (!c.secret_sha256.empty()) AddField(&out, "secret_sha256", c.secret_sha256);
  if (!c.jwks.empty()) out += ",\"jwks\":" + c.jwks;
  return out + "}\n";
}

Result<RegisteredClient> ParseClient(const std::string& text, const std::string& file) {
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) return Internal(file + ": " + doc.status().message());
  const json::Value& root = doc->root();
  RegisteredClient c;
  c.client_id = std::string(root.FindString("client_id"));
  const std::string_view kind = root.FindString("kind");
  c.kind = kind == "public"         ? ClientKind::kPublic
           : kind == "confidential" ? ClientKind::kConfidential
                                    : ClientKind::kBackend;
  Result<ScopeSet> scopes = ParseScopes(root.FindString("scope"));
  if (!scopes.ok()) return Internal(file + ": " + scopes.status().message());
  c.scopes = std::move(scopes).value();
  if (const json::Value* uris = root.Find("redirect_uris"); uris != nullptr && uris->is_array()) {
    for (const json::Value& u : uris->items()) {
      if (u.is_string()) c.redirect_uris.emplace_back(u.string_value());
    }
  }
  c.secret_sha256 = std::string(root.FindString("secret_sha256"));
  if (const json::Value* jwks = root.Find("jwks")) c.jwks = json::ToString(*jwks);
  return c;
}

std::string UserJson(const User& u) {
  std::string out = "{";
  AddField(&out, "username", u.username);
  AddField(&out, "fhirUser", u.fhir_user);
  AddField(&out, "password", u.password_hash);
  out += ",\"failed_logins\":" + std::to_string(u.failed_logins) +
         ",\"locked_until\":" + std::to_string(u.locked_until) + "}\n";
  return out;
}

int64_t IntField(const json::Value& v, std::string_view name) {
  const json::Value* f = v.Find(name);
  if (f == nullptr || !f->is_number()) return 0;
  int64_t n = 0;
  std::string_view raw = f->number_text();
  std::from_chars(raw.data(), raw.data() + raw.size(), n);
  return n;
}

Result<User> ParseUser(const std::string& text, const std::string& file) {
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) return Internal(file + ": " + doc.status().message());
  const json::Value& root = doc->root();
  User u;
  u.username = std::string(root.FindString("username"));
  u.fhir_user = std::string(root.FindString("fhirUser"));
  u.password_hash = std::string(root.FindString("password"));
  u.failed_logins = static_cast<int>(IntField(root, "failed_logins"));
  u.locked_until = IntField(root, "locked_until");
  return u;
}

bool IsFhirUser(std::string_view ref) {
  for (std::string_view type :
       {"Practitioner/", "Patient/", "PractitionerRole/", "RelatedPerson/"}) {
    if (ref.starts_with(type)) {
      std::string_view id = ref.substr(type.size());
      return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
      });
    }
  }
  return false;
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
  if (client.scopes.resources.empty()) return Invalid("a client needs at least one resource scope");
  RegisteredClient stored = client;
  if (!client.jwks.empty()) {
    Result<crypto::KeySet> keys = crypto::KeySet::Parse(client.jwks);
    if (!keys.ok()) return Invalid("the client's JWKS: " + keys.status().message());
    stored.jwks = keys->ToJwks();  // the public keys only, whatever the file held
  }
  if (client.kind == ClientKind::kBackend) {
    for (const ResourceScope& s : client.scopes.resources) {
      if (s.context != ScopeContext::kSystem) {
        return Invalid("a backend services client is granted system/ scopes only, not " +
                       s.ToString());
      }
    }
    if (client.jwks.empty()) return Invalid("a backend services client needs its public keys");
    if (!client.redirect_uris.empty()) return Invalid("a backend services client has no redirect");
  } else {
    for (const ResourceScope& s : client.scopes.resources) {
      if (s.context == ScopeContext::kSystem) {
        return Invalid("an app with a user is granted patient/ and user/ scopes, not " +
                       s.ToString());
      }
    }
    if (client.redirect_uris.empty()) return Invalid("an app needs at least one --redirect-uri");
    for (const std::string& uri : client.redirect_uris) {
      if (!IsRedirectUri(uri)) {
        return Invalid("redirect URI '" + uri +
                       "': https://..., or http:// on 127.0.0.1, localhost or [::1]; no fragment");
      }
    }
    if (client.kind == ClientKind::kConfidential && client.secret_sha256.empty() &&
        client.jwks.empty()) {
      return Invalid("a confidential client needs a secret or public keys");
    }
  }
  const fs::path dir = fs::path(dir_) / "clients";
  RETURN_IF_ERROR(MakeDir(dir));
  const fs::path file = dir / (client.client_id + ".json");
  if (fs::exists(file)) return Conflict("client " + client.client_id + " is already registered");
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

Status AuthDirectory::AddUser(const User& user) const {
  if (!IsUsername(user.username)) {
    return Invalid("a username is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '@' and '-'");
  }
  if (!IsFhirUser(user.fhir_user)) {
    return Invalid(
        "--fhir-user is Practitioner/ID, Patient/ID, PractitionerRole/ID or "
        "RelatedPerson/ID, not '" +
        user.fhir_user + "'");
  }
  const fs::path dir = fs::path(dir_) / "users";
  RETURN_IF_ERROR(MakeDir(dir));
  const fs::path file = dir / (user.username + ".json");
  if (fs::exists(file)) return Conflict("user " + user.username + " exists");
  return WriteFileAtomically(file, UserJson(user));
}

Status AuthDirectory::SaveUser(const User& user) const {
  if (!IsUsername(user.username)) return NotFound("no user " + user.username);
  return WriteFileAtomically(fs::path(dir_) / "users" / (user.username + ".json"), UserJson(user));
}

Status AuthDirectory::RemoveUser(const std::string& username) const {
  std::error_code ec;
  if (!IsUsername(username) || !fs::remove(fs::path(dir_) / "users" / (username + ".json"), ec)) {
    return NotFound("no user " + username);
  }
  return Status::Ok();
}

Result<User> AuthDirectory::FindUser(const std::string& username) const {
  if (!IsUsername(username)) return NotFound("no user " + username);
  const fs::path file = fs::path(dir_) / "users" / (username + ".json");
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) return NotFound("no user " + username);
  return ParseUser(*text, file.string());
}

Result<std::vector<User>> AuthDirectory::ListUsers() const {
  std::vector<User> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "users", ec)) {
    if (e.path().extension() != ".json") continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(e.path()));
    ASSIGN_OR_RETURN(User u, ParseUser(text, e.path().string()));
    out.push_back(std::move(u));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.username < b.username; });
  return out;
}

Status AuthDirectory::SaveRefresh(const std::string& token_sha256,
                                  const RefreshGrant& grant) const {
  const fs::path dir = fs::path(dir_) / "refresh";
  RETURN_IF_ERROR(MakeDir(dir));
  std::string out = "{";
  AddField(&out, "client_id", grant.client_id);
  AddField(&out, "scope", grant.scope);
  AddField(&out, "sub", grant.subject);
  AddField(&out, "fhirUser", grant.fhir_user);
  AddField(&out, "patient", grant.patient);
  AddField(&out, "encounter", grant.encounter);
  out += ",\"exp\":" + std::to_string(grant.expires_at) + "}\n";
  return WriteFileAtomically(dir / (token_sha256 + ".json"), out);
}

Result<RefreshGrant> AuthDirectory::TakeRefresh(const std::string& token_sha256,
                                                int64_t now) const {
  if (!IsClientId(token_sha256)) return NotFound("no such refresh token");
  const fs::path file = fs::path(dir_) / "refresh" / (token_sha256 + ".json");
  const fs::path taken = file.string() + ".taken";
  // The rename is the use: of two requests with one token, one renames and the other finds none.
  if (rename(file.c_str(), taken.c_str()) != 0) return NotFound("no such refresh token");
  Result<std::string> text = ReadFile(taken);
  std::error_code ec;
  fs::remove(taken, ec);
  if (!text.ok()) return NotFound("no such refresh token");
  Result<json::Document> doc = json::Parse(*text);
  if (!doc.ok()) return NotFound("no such refresh token");
  const json::Value& root = doc->root();
  RefreshGrant g;
  g.client_id = std::string(root.FindString("client_id"));
  g.scope = std::string(root.FindString("scope"));
  g.subject = std::string(root.FindString("sub"));
  g.fhir_user = std::string(root.FindString("fhirUser"));
  g.patient = std::string(root.FindString("patient"));
  g.encounter = std::string(root.FindString("encounter"));
  g.expires_at = IntField(root, "exp");
  if (g.expires_at <= now) return NotFound("the refresh token has expired");
  return g;
}

}  // namespace vesta::auth
