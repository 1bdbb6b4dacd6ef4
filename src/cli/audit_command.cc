// `vesta audit`: the audit trail the server keeps (docs/security.md, "Audit trail").
//
//   vesta audit verify [--data-dir DIR | --store URI]
//       walks the hash chain: exit 0 with the number of records, the first and last times and
//       the head's hash; 1 naming the first record that is not the next link (changed, removed,
//       reordered)
//   vesta audit export [--since INSTANT] [--data-dir DIR | --store URI]
//       the records as NDJSON AuditEvents on stdout (id: the sequence number), for log shipping
//
// Both read a running server's store (SQLite's readers do not block its writer; PostgreSQL's
// reads see committed records): they see the records appended so far.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/chain.h"
#include "audit/record.h"
#include "cli/command.h"
#include "cli/store_choice.h"
#include "fhir/datetime.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

constexpr int kPage = 1000;

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& store_flag,
                                                const std::string& data_dir) {
  ASSIGN_OR_RETURN(StoreChoice choice, ChooseStore(store_flag, data_dir));
  if (choice.postgres) return OpenPostgresStore(choice.uri, 1);
  store::SqliteStoreOptions options;
  options.directory = choice.directory;
  options.durability = store::Durability::kNormal;  // this command writes nothing
  options.read_cache_bytes = 0;
  options.read_connections = 1;
  return store::OpenSqliteStore(options);
}

int Verify(store::Store& store) {
  Result<audit::ChainSummary> summary = audit::VerifyChain(store, kPage);
  if (!summary.ok()) {
    std::cerr << "vesta audit verify: FAILED: " << summary.status().message() << "\n";
    return 1;
  }
  std::cout << "audit trail intact: " << summary->records << " records";
  if (summary->records > 0) {
    std::cout << ", from " << FormatInstant(summary->first_recorded) << " to "
              << FormatInstant(summary->last_recorded);
  }
  std::cout << "\nhead hash: " << summary->last_hash << "\n";
  return 0;
}

int Export(store::Store& store, std::optional<Micros> since) {
  int64_t after = 0;
  std::string line;
  for (;;) {
    Result<std::vector<store::AuditEntry>> entries = store.ReadAudit(after, kPage);
    if (!entries.ok()) {
      std::cerr << "vesta audit export: " << entries.status().message() << "\n";
      return 1;
    }
    if (entries->empty()) break;
    for (const store::AuditEntry& e : *entries) {
      if (since.has_value() && e.recorded < *since) continue;
      line = audit::StoredAuditEvent(e.record, std::to_string(e.seq));
      line.push_back('\n');
      std::cout.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
    after = entries->back().seq;
  }
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}

void AddAudit(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("audit", "Check or export the audit trail");
  cmd->require_subcommand(1);
  struct Flags {
    std::string data_dir = "./vesta-data";
    std::string store;
    std::string since;
  };
  auto flags = std::make_shared<Flags>();
  auto store_options = [flags](CLI::App* sub) {
    sub->add_option("--data-dir", flags->data_dir, "Where the SQLite store lives")
        ->capture_default_str();
    sub->add_option("--store", flags->store,
                    "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI");
  };
  auto run = [flags](const char* name, auto body) {
    Result<std::unique_ptr<store::Store>> store = OpenStore(flags->store, flags->data_dir);
    if (!store.ok()) {
      std::cerr << "vesta audit " << name << ": " << store.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    int rc = body(**store);
    (void)(*store)->Close();
    if (rc != 0) throw CLI::RuntimeError(rc);
  };

  CLI::App* verify = cmd->add_subcommand(
      "verify", "Walk the audit trail's hash chain; name the first record that breaks it");
  store_options(verify);
  verify->callback([run] { run("verify", [](store::Store& s) { return Verify(s); }); });

  CLI::App* exp = cmd->add_subcommand(
      "export",
      "Write the audit records as NDJSON AuditEvents on stdout (id: the sequence number)");
  store_options(exp);
  exp->add_option("--since", flags->since,
                  "Only records recorded at or after this instant (a FHIR dateTime, e.g. "
                  "2026-11-24T00:00:00Z)");
  exp->callback([run, flags] {
    std::optional<Micros> since;
    if (!flags->since.empty()) {
      Result<fhir::TimeRange> range = fhir::ParseTimeRange(flags->since);
      if (!range.ok()) {
        std::cerr << "vesta audit export: --since: " << range.status().message() << "\n";
        throw CLI::RuntimeError(1);
      }
      since = range->low;
    }
    run("export", [since](store::Store& s) { return Export(s, since); });
  });
}

}  // namespace
VESTA_COMMAND(AddAudit);
}  // namespace vesta::cli
