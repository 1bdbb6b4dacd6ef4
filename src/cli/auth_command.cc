// `vesta auth ...`: the registered clients and the signing keys of SMART authorization, in the
// auth directory (auth/auth_dir.h; docs/security.md). Safe while servers run: they read the
// clients on each token request and the keys at start.
//
//   vesta auth client add --client-id reporting --scope "system/*.rs" --jwks reporting.jwks.json
//   vesta auth client add --client-id chart --public --redirect-uri https://app.example/cb
//       --scope "openid fhirUser launch/patient patient/*.rs offline_access"   (one line)
//   echo -n "$SECRET" | vesta auth client add --client-id portal --secret-stdin ...
//   echo -n "$PASSWORD" | vesta auth user add --username drsmith --fhir-user Practitioner/12
//   vesta auth client list
//   vesta auth client remove --client-id reporting
//   vesta auth keys rotate
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "auth/auth_dir.h"
#include "auth/passwords.h"
#include "cli/command.h"
#include "crypto/base64url.h"
#include "crypto/digest.h"

namespace vesta::cli {
namespace {

struct AuthFlags {
  std::string data_dir = "./vesta-data";
  std::string auth_dir;  // default <data-dir>/auth
  std::string client_id;
  std::string scope;
  std::string jwks_file;
  std::vector<std::string> redirect_uris;
  bool is_public = false;
  bool secret_stdin = false;
  std::string username;
  std::string fhir_user;
};

// Standard input to its end, without a final line end (a password or secret piped in).
std::string ReadStdin() {
  std::ostringstream s;
  s << std::cin.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

auth::AuthDirectory Directory(const AuthFlags& f) {
  return auth::AuthDirectory(f.auth_dir.empty() ? f.data_dir + "/auth" : f.auth_dir);
}

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "vesta auth: " << message << "\n";
  throw CLI::RuntimeError(1);
}

void AddDirectoryOptions(CLI::App* cmd, AuthFlags& f) {
  cmd->add_option("--data-dir", f.data_dir, "The data directory (its auth/ folder)")
      ->capture_default_str();
  cmd->add_option("--auth-dir", f.auth_dir,
                  "The auth directory, as given to `vesta serve --auth-dir` (default "
                  "<data-dir>/auth)");
}

void AddAuth(CLI::App& app) {
  CLI::App* auth =
      app.add_subcommand("auth", "SMART authorization: clients, users and signing keys");
  auth->require_subcommand(1);
  auto flags = std::make_shared<AuthFlags>();

  CLI::App* client = auth->add_subcommand("client", "Registered clients (SMART Backend Services)");
  client->require_subcommand(1);
  CLI::App* add = client->add_subcommand(
      "add",
      "Register a client: a backend service (--jwks, system/ scopes), or an app with users "
      "(--redirect-uri, patient/ and user/ scopes; --public for one that keeps no secret, else "
      "--secret-stdin or --jwks)");
  AddDirectoryOptions(add, *flags);
  add->add_option("--client-id", flags->client_id, "The client's id")->required();
  add->add_option("--scope", flags->scope,
                  "Space-separated scopes it may be granted, e.g. \"system/*.rs\" or "
                  "\"openid fhirUser launch/patient patient/*.rs offline_access\"")
      ->required();
  add->add_option("--jwks", flags->jwks_file, "The client's JWK Set (public keys), a JSON file");
  add->add_option("--redirect-uri", flags->redirect_uris,
                  "Where the authorization code flow returns (exact; repeatable)");
  add->add_flag("--public", flags->is_public, "An app that keeps no secret (PKCE only)");
  add->add_flag("--secret-stdin", flags->secret_stdin,
                "Read the client's secret from standard input (client_secret_basic)");
  add->callback([flags] {
    auth::RegisteredClient c;
    c.client_id = flags->client_id;
    if (!flags->jwks_file.empty()) {
      std::ifstream in(flags->jwks_file, std::ios::binary);
      if (!in) Fail("cannot read " + flags->jwks_file);
      std::ostringstream jwks;
      jwks << in.rdbuf();
      c.jwks = jwks.str();
    }
    Result<auth::ScopeSet> scopes = auth::ParseScopes(flags->scope);
    if (!scopes.ok()) Fail(scopes.status().message());
    if (!scopes->other.empty()) Fail("unknown scope '" + scopes->other.front() + "'");
    c.scopes = std::move(scopes).value();
    c.redirect_uris = flags->redirect_uris;
    if (flags->redirect_uris.empty()) {
      if (flags->is_public || flags->secret_stdin) Fail("an app needs --redirect-uri");
      c.kind = auth::ClientKind::kBackend;
    } else {
      c.kind = flags->is_public ? auth::ClientKind::kPublic : auth::ClientKind::kConfidential;
      if (flags->secret_stdin) {
        const std::string secret = ReadStdin();
        if (secret.size() < 16) Fail("a client secret has at least 16 characters");
        c.secret_sha256 = crypto::Base64UrlEncode(crypto::Sha256(secret));
      }
    }
    if (Status s = Directory(*flags).AddClient(c); !s.ok()) Fail(s.message());
    std::cout << "registered client " << flags->client_id << "\n";
  });

  CLI::App* list = client->add_subcommand("list", "List the registered clients");
  AddDirectoryOptions(list, *flags);
  list->callback([flags] {
    Result<std::vector<auth::RegisteredClient>> clients = Directory(*flags).ListClients();
    if (!clients.ok()) Fail(clients.status().message());
    for (const auth::RegisteredClient& c : *clients) {
      const char* kind = c.kind == auth::ClientKind::kBackend  ? "backend"
                         : c.kind == auth::ClientKind::kPublic ? "public"
                                                               : "confidential";
      std::cout << c.client_id << " (" << kind << "): " << c.scopes.ToString() << "\n";
    }
  });

  CLI::App* remove = client->add_subcommand("remove", "Remove a registered client");
  AddDirectoryOptions(remove, *flags);
  remove->add_option("--client-id", flags->client_id, "The client's id")->required();
  remove->callback([flags] {
    if (Status s = Directory(*flags).RemoveClient(flags->client_id); !s.ok()) Fail(s.message());
    std::cout << "removed client " << flags->client_id << "\n";
  });

  CLI::App* user = auth->add_subcommand("user", "Users who sign in to apps");
  user->require_subcommand(1);
  CLI::App* user_add = user->add_subcommand(
      "add", "Add a user: the FHIR resource they are, and a password read from standard input");
  AddDirectoryOptions(user_add, *flags);
  user_add->add_option("--username", flags->username, "The name they sign in with")->required();
  user_add
      ->add_option("--fhir-user", flags->fhir_user,
                   "Practitioner/ID, Patient/ID, PractitionerRole/ID or RelatedPerson/ID")
      ->required();
  user_add->callback([flags] {
    Result<std::string> hash = auth::HashPassword(ReadStdin());
    if (!hash.ok()) Fail(hash.status().message());
    auth::User u{flags->username, flags->fhir_user, *hash, 0, 0};
    if (Status s = Directory(*flags).AddUser(u); !s.ok()) Fail(s.message());
    std::cout << "added user " << flags->username << "\n";
  });
  CLI::App* user_list = user->add_subcommand("list", "List the users");
  AddDirectoryOptions(user_list, *flags);
  user_list->callback([flags] {
    Result<std::vector<auth::User>> users = Directory(*flags).ListUsers();
    if (!users.ok()) Fail(users.status().message());
    for (const auth::User& u : *users) {
      std::cout << u.username << ": " << u.fhir_user << (u.locked_until ? " (locked)" : "") << "\n";
    }
  });
  CLI::App* user_remove = user->add_subcommand("remove", "Remove a user");
  AddDirectoryOptions(user_remove, *flags);
  user_remove->add_option("--username", flags->username, "The user")->required();
  user_remove->callback([flags] {
    if (Status s = Directory(*flags).RemoveUser(flags->username); !s.ok()) Fail(s.message());
    std::cout << "removed user " << flags->username << "\n";
  });

  CLI::App* keys = auth->add_subcommand("keys", "The server's signing keys");
  keys->require_subcommand(1);
  CLI::App* rotate = keys->add_subcommand(
      "rotate",
      "Make a new signing key; servers sign with it from their next start, and the two previous "
      "keys keep verifying the tokens they signed");
  AddDirectoryOptions(rotate, *flags);
  rotate->callback([flags] {
    Result<crypto::SigningKey> key = Directory(*flags).RotateKeys();
    if (!key.ok()) Fail(key.status().message());
    std::cout << "new signing key " << key->kid() << "\n";
  });
}

}  // namespace

VESTA_COMMAND(AddAuth);

}  // namespace vesta::cli
