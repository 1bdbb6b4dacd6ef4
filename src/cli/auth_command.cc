// `vesta auth ...`: the registered clients and the signing keys of SMART authorization, in the
// auth directory (auth/auth_dir.h; docs/security.md). Safe while servers run: they read the
// clients on each token request and the keys at start.
//
//   vesta auth client add --client-id reporting --scope "system/*.rs" --jwks reporting.jwks.json
//   vesta auth client list
//   vesta auth client remove --client-id reporting
//   vesta auth keys rotate
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "auth/auth_dir.h"
#include "cli/command.h"

namespace vesta::cli {
namespace {

struct AuthFlags {
  std::string data_dir = "./vesta-data";
  std::string auth_dir;  // default <data-dir>/auth
  std::string client_id;
  std::string scope;
  std::string jwks_file;
};

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
  CLI::App* auth = app.add_subcommand("auth", "SMART authorization: clients and signing keys");
  auth->require_subcommand(1);
  auto flags = std::make_shared<AuthFlags>();

  CLI::App* client = auth->add_subcommand("client", "Registered clients (SMART Backend Services)");
  client->require_subcommand(1);
  CLI::App* add = client->add_subcommand(
      "add",
      "Register a backend services client: its id, the system/ scopes it may be granted, and its "
      "public keys (a JWKS file; it signs its token requests with the private keys, RS384 or "
      "ES384)");
  AddDirectoryOptions(add, *flags);
  add->add_option("--client-id", flags->client_id, "The client's id")->required();
  add->add_option("--scope", flags->scope, "Space-separated system/ scopes, e.g. \"system/*.rs\"")
      ->required();
  add->add_option("--jwks", flags->jwks_file, "The client's JWK Set (public keys), a JSON file")
      ->required();
  add->callback([flags] {
    std::ifstream in(flags->jwks_file, std::ios::binary);
    if (!in) Fail("cannot read " + flags->jwks_file);
    std::ostringstream jwks;
    jwks << in.rdbuf();
    Result<auth::ScopeSet> scopes = auth::ParseScopes(flags->scope);
    if (!scopes.ok()) Fail(scopes.status().message());
    if (!scopes->other.empty() || scopes->openid || scopes->launch || scopes->launch_patient) {
      Fail("a backend services client takes system/ scopes only");
    }
    auth::RegisteredClient c{flags->client_id, scopes->resources, jwks.str()};
    if (Status s = Directory(*flags).AddClient(c); !s.ok()) Fail(s.message());
    std::cout << "registered client " << flags->client_id << "\n";
  });

  CLI::App* list = client->add_subcommand("list", "List the registered clients");
  AddDirectoryOptions(list, *flags);
  list->callback([flags] {
    Result<std::vector<auth::RegisteredClient>> clients = Directory(*flags).ListClients();
    if (!clients.ok()) Fail(clients.status().message());
    for (const auth::RegisteredClient& c : *clients) {
      std::string scopes;
      for (const auth::ResourceScope& s : c.scopes) scopes += " " + s.ToString();
      std::cout << c.client_id << ":" << scopes << "\n";
    }
  });

  CLI::App* remove = client->add_subcommand("remove", "Remove a registered client");
  AddDirectoryOptions(remove, *flags);
  remove->add_option("--client-id", flags->client_id, "The client's id")->required();
  remove->callback([flags] {
    if (Status s = Directory(*flags).RemoveClient(flags->client_id); !s.ok()) Fail(s.message());
    std::cout << "removed client " << flags->client_id << "\n";
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
