// `vesta serve`: the FHIR server on the embedded SQLite store (the default) or, with
// `--store postgresql://...`, on the PostgreSQL store (any number of nodes on one database).
//
//   vesta serve --port 8080 --listen 127.0.0.1 --data-dir ./vesta-data
//   PGPASSWORD=... vesta serve --store postgresql://vesta@db.example:5432/vesta
//
// Prints "vesta: listening on http://HOST:PORT" (https:// with --tls-cert) on stdout once ready
// (with --port 0 the real port, for tests and scripts). SIGINT/SIGTERM shut down gracefully:
// in-flight requests finish, then the store is closed.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "analytics/analytics_db.h"
#include "analytics/materializer.h"
#include "base/clock.h"
#include "base/log.h"
#include "bulk/export_jobs.h"
#include "cli/command.h"
#include "cli/demo_population.h"
#include "cli/hl7v2_feed.h"
#include "cli/store_choice.h"
#include "fhir/model/model.h"
#include "fhir/resource/resource_json.h"
#include "http/server.h"
#include "http/static_files.h"
#include "json/parse.h"
#include "json/value.h"
#include "mllp/app_ack.h"
#include "mllp/intake.h"
#include "mllp/retention.h"
#include "mllp/server.h"
#include "rest/api.h"
#include "rest/outcome.h"
#include "store/sqlite/search_index.h"
#include "store/sqlite/sqlite_store.h"
#ifdef VESTA_HAVE_POSTGRES_STORE
#include "store/postgres/postgres_store.h"
#include "store/postgres/read_replica.h"
#endif
#include "audit/audit_log.h"
#include "auth/auth_dir.h"
#include "auth/auth_server.h"
#include "auth/scopes.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"

namespace vesta::cli {
namespace {

struct ServeFlags {
  std::string listen = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "./vesta-data";
  std::string store;  // --store: "sqlite:DIR", a PostgreSQL URI, or empty (SQLite in data_dir)
  // --read-store: a streaming replica of a PostgreSQL --store, and how long a read waits for it.
  std::string read_store;
  int read_store_wait_ms = 200;
  int threads = 64;
  size_t max_body_mb = 64;
  size_t read_cache_mb = 64;
  std::string base_url;
  std::string durability = "full";
  std::string referential_integrity = "on";
  std::string validation = "strict";  // rest::RestOptions::lenient_validation
  int conditional_delete_limit = 1;
  // TLS (both or neither) and the origins of browser apps allowed by CORS (http/server.h).
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> cors_origins;
  // SMART on FHIR authorization (docs/security.md): "smart" (the default) or "off" (loopback
  // only); its keys and clients; and whether a TLS proxy in front terminates HTTPS.
  std::string auth = "smart";
  std::string auth_dir;  // default <data-dir>/auth
  bool behind_proxy = false;
  double auth_rate_limit = 50;  // token and login requests per second per address (0: none)
  std::string audit = "on";     // the audit trail of every request (docs/security.md)
  // Bulk Data export (docs/bulk-data.md): where the files go, how many run at once, how long
  // finished ones are kept.
  std::string export_dir;  // default <data-dir>/exports
  int export_max_running = 2;
  int export_expiry_minutes = 60;
  // Materialized views (docs/analytics.md): tables kept up to date from the store's changes.
  std::string analytics = "on";
  int analytics_interval_ms = 250;
  // The HL7 v2 feed over MLLP (docs/hl7v2.md): off unless a port is given.
  int mllp_port = -1;
  std::string mllp_listen;  // default: --listen
  size_t mllp_max_frame_kb = 16 * 1024;
  std::string mllp_client_ca;
  std::string hl7v2_retention = "30d";  // how long applied messages keep their raw text
  // Where application ACKs go, APP^FACILITY=HOST:PORT (mllp/app_ack.h).
  std::vector<std::string> hl7v2_app_ack_routes;
  // The web app's built files (web/, docs/web-app.md), served at /app/; default: DefaultAppDir().
  std::string app_dir;
  // --demo: a generated population loaded into an empty store at start (cli/demo_population.h).
  bool demo = false;
  int64_t demo_patients = 100;
  std::string demo_measures;  // a folder laid out as the eCQM test data
};

// Where the web app's built files are when --app-dir is not given: `web/` beside the binary (the
// build folder: the vesta_web target builds it there), else `../share/vesta/web` from the
// binary's folder (an installed vesta). Empty when neither holds an index.html.
// The web app as a SMART app (docs/web-app.md, "Signing in"): the public client `vesta-web`,
// registered with the redirect URI <issuer>/app/ when missing (kept when an operator changed its
// scopes; the URI added when the issuer changed), so that the app can sign users in through this
// server's authorization code flow.
void RegisterAppClient(const auth::AuthDirectory& dir, const std::string& issuer) {
  const std::string redirect = issuer + "/app/";
  Result<auth::RegisteredClient> found = dir.FindClient("vesta-web");
  auth::RegisteredClient client;
  if (found.ok()) {
    client = *found;
    if (std::find(client.redirect_uris.begin(), client.redirect_uris.end(), redirect) !=
        client.redirect_uris.end()) {
      return;
    }
    if (Status s = dir.RemoveClient(client.client_id); !s.ok()) {
      LogWarning("the web app's client: " + s.message());
      return;
    }
  } else {
    client.client_id = "vesta-web";
    client.kind = auth::ClientKind::kPublic;
    Result<auth::ScopeSet> scopes = auth::ParseScopes("openid fhirUser user/*.cruds");
    if (!scopes.ok()) return;
    client.scopes = *scopes;
  }
  client.redirect_uris.push_back(redirect);
  if (Status s = dir.AddClient(client); !s.ok()) {
    LogWarning("the web app's client vesta-web not registered: " + s.message());
  } else {
    LogInfo("the web app is the SMART client vesta-web (redirect URI " + redirect + ")");
  }
}

std::string DefaultAppDir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& dir :
       {exe.parent_path() / "web", exe.parent_path().parent_path() / "share" / "vesta" / "web"}) {
    if (fs::is_regular_file(dir / "index.html", ec)) return dir.string();
  }
  return "";
}

// This node's name, for the audit records' source.
std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "vesta";
  return name;
}

bool IsLoopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" ||
         address.starts_with("127.");
}

// Makes the terminology's CodeSystem, ValueSet and ConceptMap resources (the ICD summaries, and
// a loaded package's own, e.g. the R4 value sets) ordinary resources of the store, so that they
// can be read, searched (e.g. CodeSystem?url=...) and versioned like any other. A resource is
// written only when its content changed since the last start (a new release was loaded), as a
// new version; the writes go to the store in batches (one commit each). A resource the validator
// refuses is left out with a warning.
Status PublishTerminologyResources(terminology::TerminologyService& term, store::Store& store,
                                   Clock& clock) {
  constexpr size_t kBatch = 256;
  std::vector<std::string> all;
  for (auto list : {term.CodeSystems(), term.ValueSets(), term.ConceptMaps()}) {
    if (!list.ok()) return list.status();
    all.insert(all.end(), std::make_move_iterator(list->begin()),
               std::make_move_iterator(list->end()));
  }
  const fhir::Model& model = fhir::Model::R4();
  std::vector<store::WriteOp> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    Status s = store.Write(batch).status();
    batch.clear();
    return s;
  };
  for (const std::string& text : all) {
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(text));
    std::string type(doc.root().FindString("resourceType"));
    std::string id(doc.root().FindString("id"));
    if (type.empty() || id.empty()) continue;
    int64_t current = store::kExpectNone;
    Result<store::StoredVersion> cur = store.Read(type, id);
    if (cur.ok()) {
      current = cur->version;
      if (!cur->deleted) {
        // Unchanged apart from the server-set meta: nothing to write.
        ASSIGN_OR_RETURN(json::Document old, json::Parse(cur->json));
        json::Arena& arena = old.arena();
        json::Value a = json::WithoutMember(arena, old.root(), "meta");
        json::Value b = json::WithoutMember(arena, doc.root(), "meta");
        if (json::Equal(a, b)) continue;
      }
    } else if (cur.status().code() != StatusCode::kNotFound) {
      return cur.status();
    }
    Result<json::Document> checked = fhir::ParseResourceBody(text, type, model);
    if (!checked.ok()) {
      LogWarning("terminology resource " + type + "/" + id +
                 " not published: " + checked.status().message());
      continue;
    }
    store::WriteOp op;
    op.kind = current == store::kExpectNone ? store::WriteKind::kCreate : store::WriteKind::kUpdate;
    op.type = type;
    op.id = id;
    op.expected_version = current;
    op.last_updated = clock.Now();
    op.json = fhir::StoredJson(*checked, id, current + 1, op.last_updated);
    batch.push_back(std::move(op));
    if (batch.size() == kBatch) RETURN_IF_ERROR(flush());
  }
  return flush();
}

bool IsPostgresUri(const std::string& store) {
  return store.starts_with("postgresql://") || store.starts_with("postgres://");
}

// The PostgreSQL store on `uri` (whose password, if any, libpq takes from PGPASSWORD or
// ~/.pgpass). Messages never repeat the URI.
Result<std::unique_ptr<store::Store>> OpenPostgres(const std::string& uri, int threads) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  store::PostgresStoreOptions options;
  options.uri = uri;
  options.pool_size = std::min(threads, 16);
  return store::OpenPostgresStore(options);
#else
  (void)uri;
  (void)threads;
  return Status(StatusCode::kNotSupported, "this vesta was built without libpq");
#endif
}

// `primary` (the store on `uri`) with reads on the streaming replica `read_uri`
// (store/postgres/read_replica.h; docs/deployment.md, "Read replicas").
Result<std::unique_ptr<store::Store>> WithReadReplica(std::unique_ptr<store::Store> primary,
                                                      const std::string& uri,
                                                      const std::string& read_uri, int threads,
                                                      int wait_ms) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  store::ReadReplicaOptions options;
  options.primary_uri = uri;
  options.replica_uri = read_uri;
  options.replica_pool_size = std::min(threads, 16);
  options.max_wait = std::chrono::milliseconds(wait_ms);
  return store::OpenReadReplicaStore(std::move(primary), options);
#else
  (void)primary;
  (void)uri;
  (void)read_uri;
  (void)threads;
  (void)wait_ms;
  return Status(StatusCode::kNotSupported, "this vesta was built without libpq");
#endif
}

Result<int> ActivatePostgresParameters(const std::string& uri, std::vector<std::string>* skipped) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  return store::ActivatePostgresSearchParameters(uri, skipped);
#else
  (void)uri;
  (void)skipped;
  return 0;
#endif
}

int RunServe(ServeFlags flags) {
  const auto start = std::chrono::steady_clock::now();
  const fhir::Model& model = fhir::Model::R4();  // load now, not on the first request
  (void)model;

  const bool postgres = IsPostgresUri(flags.store);
  if (flags.store.starts_with("sqlite:")) {
    flags.data_dir = flags.store.substr(7);
  } else if (!flags.store.empty() && !postgres) {
    std::cerr << "vesta: --store takes sqlite:DIR or a postgresql:// URI\n";
    return 1;
  }
  if (!flags.read_store.empty() && (!postgres || !IsPostgresUri(flags.read_store))) {
    std::cerr << "vesta: --read-store takes a postgresql:// URI of a streaming replica, and "
                 "needs a PostgreSQL --store\n";
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store = Status(StatusCode::kInternal, "not opened");
  if (postgres) {
    store = OpenPostgres(flags.store, flags.threads);
    if (!store.ok()) {
      std::cerr << "vesta: cannot open the PostgreSQL store: " << store.status().message() << "\n";
      return 1;
    }
    if (!flags.read_store.empty()) {
      store = WithReadReplica(std::move(store).value(), flags.store, flags.read_store,
                              flags.threads, flags.read_store_wait_ms);
      if (!store.ok()) {
        std::cerr << "vesta: cannot open the read replica: " << store.status().message() << "\n";
        return 1;
      }
    }
  } else {
    store::SqliteStoreOptions store_options;
    store_options.directory = flags.data_dir;
    store_options.durability =
        flags.durability == "normal" ? store::Durability::kNormal : store::Durability::kFull;
    store_options.read_cache_bytes = flags.read_cache_mb << 20;
    store = store::OpenSqliteStore(store_options);
    if (!store.ok()) {
      std::cerr << "vesta: cannot open the store in " << flags.data_dir << ": "
                << store.status().message() << "\n";
      return 1;
    }
  }
  {
    // SearchParameter resources stored on the server: used for new writes and searches from now
    // on; `vesta reindex` indexes what was written before (docs/search.md).
    std::vector<std::string> skipped;
    Result<int> custom = postgres ? ActivatePostgresParameters(flags.store, &skipped)
                                  : store::ActivateStoredSearchParameters(flags.data_dir, &skipped);
    if (!custom.ok()) {
      LogWarning("stored SearchParameters not used: " + custom.status().message());
    } else if (*custom > 0) {
      LogInfo("search parameters stored on the server: " + std::to_string(*custom) + " (" +
              std::to_string(skipped.size()) + " skipped)");
    }
    for (const std::string& line : skipped) LogWarning("skipped " + line);
  }
  SystemClock clock;
  UuidV7Generator ids(clock);
  // Authorization: the keys and clients in the auth directory; the issuer (the base URL) is
  // known once the port is (below), before the first request.
  std::unique_ptr<auth::AuthDirectory> auth_dir;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<auth::AuthServer> auth_server;
  if (flags.auth == "smart") {
    auth_dir = std::make_unique<auth::AuthDirectory>(
        flags.auth_dir.empty() ? flags.data_dir + "/auth" : flags.auth_dir);
    Result<std::vector<crypto::SigningKey>> keys = auth_dir->LoadOrCreateKeys();
    if (!keys.ok()) {
      std::cerr << "vesta: the signing keys in " << auth_dir->path() << ": "
                << keys.status().message() << "\n";
      return 1;
    }
    tokens =
        std::make_unique<auth::TokenService>(auth::TokenOptions{}, std::move(keys).value(), clock);
    // The consent page's patient is checked against the store.
    store::Store* the_store = store->get();
    auth_server = std::make_unique<auth::AuthServer>(
        *auth_dir, *tokens, clock,
        [the_store](const std::string& id) {
          Result<store::StoredVersion> v = the_store->Read("Patient", id);
          return v.ok() && !v->deleted;
        },
        flags.auth_rate_limit);
  } else {
    LogWarning("authorization is off (--auth off): anyone who can reach " + flags.listen +
               " can read and change every resource");
  }
  rest::RestOptions rest_options;
  rest_options.base_url = flags.base_url;
  rest_options.referential_integrity = flags.referential_integrity == "on";
  rest_options.lenient_validation = flags.validation == "lenient";
  rest_options.conditional_delete_limit = flags.conditional_delete_limit;
  rest_options.token_verifier = tokens.get();
  // The terminology (ICD-10-CM, ICD-9-CM, GEMs, R4 value sets) when one has been loaded into this
  // store (`vesta terminology load ... --store`).
  std::unique_ptr<terminology::TerminologyService> term;
  {
    terminology::ServiceOptions term_options;
    if (!flags.base_url.empty()) term_options.canonical_base = flags.base_url;
    // On PostgreSQL the store's database holds it, so that a node needs nothing local.
    auto opened = terminology::TerminologyService::Open(
        postgres ? flags.store : terminology::TerminologyDbPath(flags.data_dir), term_options);
    if (opened.ok()) {
      term = std::move(opened).value();
      rest_options.terminology = term.get();
      if (Status s = PublishTerminologyResources(*term, **store, clock); !s.ok()) {
        LogWarning("terminology resources not published: " + s.message());
      }
    } else if (opened.status().code() != StatusCode::kNotFound) {
      LogWarning("terminology not available: " + opened.status().message());
    }
  }
  // Materialized views: the stored ViewDefinitions tagged for materialization become tables of
  // the analytics database (analytics.db beside the SQLite store, the schema analytics in
  // PostgreSQL), refreshed from the store's change feed every interval.
  std::unique_ptr<analytics::AnalyticsDb> analytics_db;
  std::unique_ptr<analytics::Materializer> materializer;
  if (flags.analytics == "on") {
    auto opened = postgres ? analytics::OpenPostgresAnalytics(flags.store)
                           : analytics::OpenSqliteAnalytics(flags.data_dir);
    if (opened.ok()) {
      analytics_db = std::move(opened).value();
      analytics::MaterializerOptions m;
      m.interval = std::chrono::milliseconds(flags.analytics_interval_ms);
      materializer = std::make_unique<analytics::Materializer>(**store, *analytics_db, m);
      materializer->Start();
    } else {
      LogWarning("materialized views off: " + opened.status().message());
    }
  }
  // Bulk Data export: background exports whose files are kept in the export directory until
  // they expire (with PostgreSQL too: the files and the exports are this node's;
  // docs/bulk-data.md).
  bulk::ExportJobsOptions export_options;
  export_options.directory =
      flags.export_dir.empty() ? flags.data_dir + "/exports" : flags.export_dir;
  export_options.max_running = flags.export_max_running;
  export_options.expire_after = std::chrono::minutes(flags.export_expiry_minutes);
  auto exports = std::make_unique<bulk::ExportJobs>(export_options, **store, clock);
  if (Status s = exports->Open(); !s.ok()) {
    std::cerr << "vesta: the export directory: " << s.message() << "\n";
    return 1;
  }
  rest_options.exports = exports.get();
  rest::RestApi api(rest_options, **store, clock, ids);
  if (flags.demo) {
    DemoOptions demo;
    demo.patients = flags.demo_patients;
    demo.measures_dir = flags.demo_measures;
    const auto demo_start = std::chrono::steady_clock::now();
    Result<int64_t> loaded = LoadDemoPopulation(api, tokens != nullptr, demo);
    if (!loaded.ok()) {
      std::cerr << "vesta: --demo: " << loaded.status().message() << "\n";
      (void)(*store)->Close();
      return 1;
    }
    if (*loaded == 0) {
      LogInfo("demo: the store already has patients; nothing generated");
    } else {
      LogInfo("demo: " + std::to_string(*loaded) + " generated patients loaded in " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - demo_start)
                                 .count()) +
              " ms");
    }
  }
  // The audit trail: every answered request, appended to the store's chain in the background;
  // closed (flushed) below after the last request and before the store.
  std::unique_ptr<audit::AuditLog> audit_log;
  if (flags.audit == "on") {
    audit_log = std::make_unique<audit::AuditLog>(
        **store, clock, audit::Source{HostName(), flags.base_url}, audit::AuditLogOptions{});
  }

  http::ServerOptions http_options;
  http_options.listen = flags.listen;
  http_options.port = static_cast<uint16_t>(flags.port);
  http_options.threads = flags.threads;
  http_options.max_body_bytes = flags.max_body_mb * 1024 * 1024;
  http_options.handle_signals = true;
  http_options.tls_certificate_file = flags.tls_cert;
  http_options.tls_private_key_file = flags.tls_key;
  http_options.cors_origins = flags.cors_origins;
  http_options.error_responder = [](int status, const std::string& message) {
    StatusCode code = status == 413   ? StatusCode::kTooLarge
                      : status == 415 ? StatusCode::kUnsupportedMedia
                      : status >= 500 ? StatusCode::kInternal
                                      : StatusCode::kInvalid;
    rest::Response r = rest::ErrorResponse(Status(code, message));
    return http::Response{status, std::move(r.headers), std::move(r.body), ""};
  };
  // The web app (docs/web-app.md): its files at /app/ (public, like any page: the app signs in
  // through the authorization server for its FHIR requests), and browsers that open `/` sent
  // there. API clients asking for `/` get what they got before.
  const std::string app_dir = flags.app_dir.empty() ? DefaultAppDir() : flags.app_dir;
  std::unique_ptr<http::StaticFiles> app;
  if (!app_dir.empty()) {
    app = std::make_unique<http::StaticFiles>(app_dir, "/app");
    if (!app->available()) LogWarning("the web app: no index.html in " + app_dir);
  } else {
    LogInfo("the web app is not built (no web/ beside the binary): /app/ is not served");
  }
  http::Server server(http_options, [&api, &auth_server, &audit_log,
                                     &app](const http::Request& req) {
    if (app) {
      if (std::optional<http::Response> file = app->Handle(req)) return std::move(*file);
      if (req.path == "/" && http::IsBrowserNavigation(req)) {
        return http::Response{
            302, {{"Location", "/app/"}, {"Content-Type", "text/plain"}}, "see /app/\n", ""};
      }
    }
    if (auth_server) {
      auth::AuthRequest ar;
      ar.method = req.method;
      ar.path = req.path;
      const size_t q = req.target.find('?');
      if (q != std::string::npos) ar.query = std::string_view(req.target).substr(q + 1);
      ar.headers = &req.headers;
      ar.body = req.body;
      ar.secure = req.tls;
      ar.remote_address = req.remote_address;
      if (std::optional<auth::AuthAnswer> a = auth_server->Handle(ar)) {
        http::Response out{a->status, {{"Content-Type", a->content_type}}, std::move(a->body), ""};
        for (auto& h : a->headers) out.headers.push_back(std::move(h));
        if (a->no_store) {
          out.headers.emplace_back("Cache-Control", "no-store");
          out.headers.emplace_back("Pragma", "no-cache");
        }
        if (audit_log) audit_log->Add(req, out.status, out.headers, nullptr);
        return out;
      }
    }
    rest::Request r;
    r.method = req.method;
    r.path = req.path;
    r.query = req.query;
    r.headers = req.headers;
    r.body = req.body;
    r.secure = req.tls;
    rest::Response out = api.Handle(std::move(r));
    if (audit_log) audit_log->Add(req, out.status, out.headers, out.caller.get());
    return http::Response{out.status, std::move(out.headers), std::move(out.body),
                          std::move(out.body_file), out.remove_body_file};
  });
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "vesta: " << s.message() << "\n";
    (void)(*store)->Close();
    return 1;
  }
  if (tokens) {
    // The tokens' issuer and audience: the public base URL, else this listener's.
    std::string issuer = flags.base_url;
    if (issuer.empty()) {
      issuer = std::string(flags.tls_cert.empty() ? "http" : "https") + "://" + flags.listen + ":" +
               std::to_string(server.port());
    }
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    tokens->SetIssuer(issuer);
    if (app && app->available()) RegisterAppClient(*auth_dir, issuer);
  }
  // The HL7 v2 feed: each message stored, applied through the REST API's transaction (as
  // `POST /` with a Bundle), and acknowledged (mllp/intake.h).
  std::unique_ptr<mllp::AppAckRoutes> app_ack_routes;
  std::unique_ptr<mllp::AppAckDelivery> app_acks;
  std::unique_ptr<mllp::Intake> intake;
  std::unique_ptr<mllp::Server> mllp_server;
  std::unique_ptr<mllp::RetentionThread> retention;
  if (flags.mllp_port >= 0) {
    intake = std::make_unique<mllp::Intake>(**store, clock, FeedMapper(),
                                            FeedApplier(api, tokens != nullptr));
    // Application ACKs sent on connections of their own (mllp/app_ack.h): kept with each
    // message's record, delivered by a thread when routes are given.
    std::vector<mllp::AppAckRoute> routes;
    for (const std::string& r : flags.hl7v2_app_ack_routes) {
      routes.push_back(*mllp::ParseAppAckRoute(r));  // checked when the flags were parsed
    }
    app_ack_routes = std::make_unique<mllp::AppAckRoutes>(std::move(routes));
    if (!app_ack_routes->empty()) {
      app_acks = std::make_unique<mllp::AppAckDelivery>(**store, clock, *app_ack_routes);
    }
    mllp::AppAckDelivery* delivery = app_acks.get();
    intake->SetAppAckRoutes(app_ack_routes.get(), [delivery] {
      if (delivery != nullptr) delivery->Wake();
    });
    if (Result<int> recovered = intake->RecoverPending(); !recovered.ok()) {
      LogWarning("HL7 v2: the messages stored but not applied: " + recovered.status().message());
    } else if (*recovered > 0) {
      LogInfo("HL7 v2: applied " + std::to_string(*recovered) +
              " message(s) stored before the last stop");
    }
    mllp::ServerOptions mllp_options;
    mllp_options.listen = flags.mllp_listen.empty() ? flags.listen : flags.mllp_listen;
    mllp_options.port = static_cast<uint16_t>(flags.mllp_port);
    mllp_options.max_frame_bytes = flags.mllp_max_frame_kb * 1024;
    // With --tls-cert, MLLP over TLS with the same certificate; --mllp-client-ca asks senders for
    // a certificate that CA signed (their authentication: MLLP has none of its own).
    mllp_options.tls_certificate_file = flags.tls_cert;
    mllp_options.tls_private_key_file = flags.tls_key;
    mllp_options.tls_client_ca_file = flags.mllp_client_ca;
    mllp::Intake* feed = intake.get();
    mllp_server = std::make_unique<mllp::Server>(
        mllp_options, [feed](std::string_view message) { return feed->Receive(message); });
    if (Status s = mllp_server->Start(); !s.ok()) {
      std::cerr << "vesta: " << s.message() << "\n";
      server.Shutdown();
      (void)(*store)->Close();
      return 1;
    }
    std::cout << "vesta: MLLP listening on " << mllp_options.listen << ":" << mllp_server->port()
              << "\n"
              << std::flush;
    // The raw text of applied messages, removed after the retention period (mllp/retention.h):
    // a pass now, after the recovery of stored messages, then periodically.
    if (const std::chrono::seconds keep = *mllp::ParseRetention(flags.hl7v2_retention);
        keep.count() > 0) {
      retention = std::make_unique<mllp::RetentionThread>(**store, clock, keep);
      retention->Start();
    }
    if (app_acks) app_acks->Start();  // the pending ones, this node's and earlier runs'
  }
  const auto ready = std::chrono::steady_clock::now();
  std::cout << "vesta: listening on " << (flags.tls_cert.empty() ? "http" : "https") << "://"
            << flags.listen << ":" << server.port() << "\n"
            << std::flush;
  LogInfo(
      "ready in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(ready - start).count()) +
      " ms (R4 model loaded, store " + (postgres ? std::string("PostgreSQL") : flags.data_dir) +
      " open)");
  server.Run();
  if (mllp_server) mllp_server->Shutdown();  // messages being handled finish first
  app_acks.reset();   // an ACK being sent is cut short; it stays pending, sent after a restart
  retention.reset();  // a pass under way stops after its record
  if (materializer) materializer->Stop();  // a pass under way finishes first
  exports.reset();  // running exports stop (their files are removed) before the store closes
  if (audit_log) {
    if (Status s = audit_log->Close(); !s.ok()) LogError("the audit trail: " + s.message());
    LogInfo("audit records appended: " + std::to_string(audit_log->appended()));
  }
  LogInfo("shutting down: closing the store");
  if (Status s = (*store)->Close(); !s.ok()) {
    std::cerr << "vesta: closing the store: " << s.message() << "\n";
    return 1;
  }
  LogInfo("stopped");
  return 0;
}

void AddServe(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the FHIR server");
  cmd->add_option("--port", flags->port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--listen", flags->listen, "Address to listen on")->capture_default_str();
  cmd->add_option("--data-dir", flags->data_dir, "Where the SQLite store and its terminology live")
      ->capture_default_str();
  cmd->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR; the default) or a PostgreSQL URI, "
                  "postgresql://USER@HOST:PORT/DB (the password from PGPASSWORD or ~/.pgpass, "
                  "never here); its database holds the terminology too");
  cmd->add_option("--read-store", flags->read_store,
                  "A streaming replica of the PostgreSQL --store (postgresql://...): reads, "
                  "history and searches go there once it has replayed this node's writes, "
                  "writes to --store (docs/deployment.md, \"Read replicas\")");
  cmd->add_option("--read-store-wait-ms", flags->read_store_wait_ms,
                  "How long a read waits for the replica to replay this node's last write "
                  "before the primary serves it")
      ->capture_default_str()
      ->check(CLI::Range(0, 60000));
  cmd->add_option("--threads", flags->threads,
                  "Event loops, one thread each (a connection stays on one)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-body-mb", flags->max_body_mb, "Largest request body accepted (MiB)")
      ->capture_default_str();
  cmd->add_option("--read-cache-mb", flags->read_cache_mb,
                  "Memory for recently read resources, so that reading one again skips the "
                  "database (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_option("--base-url", flags->base_url,
                  "Public base URL for links (default: from the Host header)");
  cmd->add_option("--durability", flags->durability,
                  "full: every acknowledged write is synced; normal: synced at checkpoints")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--referential-integrity", flags->referential_integrity,
                  "on: refuse writes that reference resources this server does not have")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--validation", flags->validation, kValidationHelp)
      ->capture_default_str()
      ->check(CLI::IsMember({"strict", "lenient"}));
  cmd->add_option("--conditional-delete-limit", flags->conditional_delete_limit,
                  "How many matches one conditional delete may remove (1: several give 412)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--tls-cert", flags->tls_cert,
                  "Serve HTTPS only: the server's certificate chain (PEM: its certificate, then "
                  "the intermediates); needs --tls-key");
  cmd->add_option("--tls-key", flags->tls_key,
                  "The private key of --tls-cert (PEM, not encrypted); needs --tls-cert");
  cmd->add_option("--cors-origin", flags->cors_origins,
                  "An origin whose browser apps may call this server (CORS), e.g. "
                  "https://app.example.org, or * for any; repeatable");
  cmd->add_option("--auth", flags->auth,
                  "smart: every request needs a SMART access token (docs/security.md); off: no "
                  "authorization, allowed only when listening on loopback (local development)")
      ->capture_default_str()
      ->check(CLI::IsMember({"smart", "off"}));
  cmd->add_option("--auth-dir", flags->auth_dir,
                  "Where the signing keys and registered clients are (default <data-dir>/auth; "
                  "`vesta auth ...` edits it)");
  cmd->add_option("--export-dir", flags->export_dir,
                  "Where Bulk Data export files are written (default: DATA_DIR/exports, also with "
                  "a PostgreSQL store)");
  cmd->add_option("--export-max-running", flags->export_max_running,
                  "Bulk Data exports running at once; a kick-off beyond is answered 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--export-expiry-minutes", flags->export_expiry_minutes,
                  "How long a finished export's files are kept")
      ->capture_default_str()
      ->check(CLI::Range(1, 60 * 24 * 30));
  cmd->add_option("--analytics", flags->analytics,
                  "on: keep the tables of materialized views up to date (docs/analytics.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--analytics-interval-ms", flags->analytics_interval_ms,
                  "How often materialized views read the store's changes")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--mllp-port", flags->mllp_port,
                  "Take HL7 v2 messages over MLLP on this port (0: any free one, printed); off "
                  "when not given (docs/hl7v2.md)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--mllp-listen", flags->mllp_listen,
                  "The address the MLLP listener binds (default: --listen)");
  cmd->add_option("--mllp-client-ca", flags->mllp_client_ca,
                  "MLLP over TLS: accept only senders with a certificate signed by these CA "
                  "certificates (PEM); needs --tls-cert");
  cmd->add_option("--mllp-max-frame-kb", flags->mllp_max_frame_kb,
                  "The largest HL7 v2 message taken in one MLLP frame; larger ones are rejected")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024 * 1024));
  cmd->add_option("--hl7v2-retention", flags->hl7v2_retention,
                  "With --mllp-port: how long an applied HL7 v2 message keeps its raw text (30d, "
                  "12h, 90m; 0: for ever); then its record keeps the message's id, state, type, "
                  "sender, control id, time and ACK only, in one version; dead letters keep "
                  "theirs until applied (docs/hl7v2.md, \"Retention\")")
      ->capture_default_str()
      ->check([](const std::string& value) {
        Result<std::chrono::seconds> period = mllp::ParseRetention(value);
        return period.ok() ? std::string() : period.status().message();
      });
  cmd->add_option("--hl7v2-app-ack-route", flags->hl7v2_app_ack_routes,
                  "With --mllp-port, repeatable: APP^FACILITY=HOST:PORT (MSH-3 and MSH-4 namespace "
                  "ids; FACILITY * for any): where the application ACKs (AA/AE/AR) of that sender "
                  "go over MLLP (plain TCP) when its messages ask for a commit ACK and an "
                  "application ACK (enhanced mode, e.g. MSH-15/16 AL/AL); kept with the message's "
                  "record until delivered, retried (docs/hl7v2.md, \"Application ACKs\")")
      ->check([](const std::string& value) {
        Result<mllp::AppAckRoute> route = mllp::ParseAppAckRoute(value);
        return route.ok() ? std::string() : route.status().message();
      });
  cmd->add_option("--audit", flags->audit,
                  "on: record every request in the store's append-only audit trail "
                  "(docs/security.md, `vesta audit verify|export`)")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--auth-rate-limit", flags->auth_rate_limit,
                  "Token and login requests per second one client address may make, after a "
                  "burst of four seconds' worth (0: no limit); beyond, 429")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--app-dir", flags->app_dir,
                  "The built web app served at /app/ (default: web/ beside the vesta binary, "
                  "else ../share/vesta/web from its folder; docs/web-app.md)");
  cmd->add_flag("--demo", flags->demo,
                "When the store has no Patient, load a generated population first (`vesta "
                "generate --legacy-icd9`: ICD-9-CM codes for the migration worklist) through the "
                "REST API; a store with patients is left as it is (docs/web-app.md)");
  cmd->add_option("--demo-measures", flags->demo_measures,
                  "With --demo: also load the Libraries, Measures and value sets of this folder "
                  "(laid out as the eCQM test data: libraries/, measures/, tests/*/valuesets-*)");
  cmd->add_option("--demo-patients", flags->demo_patients, "Patients --demo generates")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_flag("--behind-proxy", flags->behind_proxy,
                "A TLS proxy in front terminates HTTPS: lets --auth smart listen beyond loopback "
                "without --tls-cert");
  cmd->parse_complete_callback([flags] {
    if (flags->tls_cert.empty() != flags->tls_key.empty()) {
      std::cerr << "vesta: --tls-cert and --tls-key go together: give both or neither\n";
      throw CLI::RuntimeError(1);
    }
    // Secure by default: no open server beyond this machine, and no bearer tokens in clear text
    // over a network.
    if (flags->auth == "off" && !IsLoopback(flags->listen)) {
      std::cerr << "vesta: --auth off is allowed only on a loopback address (--listen "
                   "127.0.0.1), for local development\n";
      throw CLI::RuntimeError(1);
    }
    const std::string mllp_listen = flags->mllp_listen.empty() ? flags->listen : flags->mllp_listen;
    if (flags->mllp_port >= 0 && flags->auth == "smart" && !IsLoopback(mllp_listen) &&
        flags->tls_cert.empty() && !flags->behind_proxy) {
      // The feed writes every patient's data: beyond loopback only over TLS (or a TLS proxy).
      std::cerr << "vesta: the MLLP listener on " << mllp_listen
                << " with authorization needs TLS (--tls-cert, --tls-key, and --mllp-client-ca "
                   "to authenticate senders) or --behind-proxy when a TLS proxy is in front\n";
      throw CLI::RuntimeError(1);
    }
    if (!flags->mllp_client_ca.empty() && flags->tls_cert.empty()) {
      std::cerr << "vesta: --mllp-client-ca needs --tls-cert and --tls-key\n";
      throw CLI::RuntimeError(1);
    }
    if (!flags->hl7v2_app_ack_routes.empty() && flags->mllp_port < 0) {
      std::cerr << "vesta: --hl7v2-app-ack-route needs --mllp-port\n";
      throw CLI::RuntimeError(1);
    }
    if (flags->auth == "smart" && !IsLoopback(flags->listen) && flags->tls_cert.empty() &&
        !flags->behind_proxy) {
      std::cerr << "vesta: listening on " << flags->listen
                << " with authorization needs TLS (--tls-cert, --tls-key) or --behind-proxy "
                   "when a TLS proxy terminates HTTPS in front\n";
      throw CLI::RuntimeError(1);
    }
  });
  cmd->callback([flags] {
    int rc = RunServe(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddServe);

}  // namespace vesta::cli
