// `vesta import`: bulk-load FHIR NDJSON (the Bulk Data format: one resource per line,
// https://hl7.org/fhir/uv/bulkdata/) straight into the store, without HTTP.
//
//   vesta import --data-dir ./vesta-data FILE_OR_DIR...
//   PGPASSWORD=... vesta import --store postgresql://vesta@db.example/vesta FILE_OR_DIR...
//
// Every resource goes through the same checks as a REST create or update (parse, structural
// validation against the R4 model) and is stored the way PUT [type]/[id] stores it: the id in the
// file is kept (one is assigned when absent), a resource that exists gets a new version. Writes go
// to the store in batches, each batch one atomic Write(). A line that fails its checks is reported
// with its file and line number and skipped; the others load. On SQLite the server must not be
// running on the same data directory; on PostgreSQL it may (the writes are ordinary
// compare-and-set writes, each batch one transaction, written by --connections batches at once).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>

#include "base/clock.h"
#include "cli/command.h"
#include "cli/store_choice.h"
#include "fhir/model/model.h"
#include "fhir/resource/resource_json.h"
#include "json/parse.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

struct ImportFlags {
  std::string data_dir = "./vesta-data";
  std::string store;  // --store: sqlite:DIR or a PostgreSQL URI; empty: SQLite in data_dir
  int connections = 4;
  std::vector<std::string> inputs;
  int batch = 500;
  bool fast = false;
};

std::vector<std::string> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    struct stat st {};
    if (stat(in.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::vector<std::string> found;
      if (DIR* d = opendir(in.c_str())) {
        while (dirent* e = readdir(d)) {
          std::string n = e->d_name;
          if (n.size() > 7 && n.substr(n.size() - 7) == ".ndjson") found.push_back(in + "/" + n);
        }
        closedir(d);
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

struct Pending {
  store::WriteOp op;
  std::string where;  // file:line, for messages
};

// Parses and checks lines on the calling thread and writes them in batches: one at a time, or
// (writers > 1) up to `writers` batches in flight on their own threads, for a store that takes
// concurrent writes on many connections. A resource written twice may then land in either order.
class Importer {
 public:
  Importer(store::Store& store, int batch, int writers)
      : store_(store), batch_(batch), writers_(static_cast<size_t>(writers)) {}
  ~Importer() { Finish(); }

  void Add(const std::string& line, const std::string& where) {
    // One parse: the type comes from the document that is then checked, stored and indexed.
    auto checked = json::Parse(line);
    if (!checked.ok()) return Reject(where, checked.status());
    std::string type(checked->root().FindString("resourceType"));
    if (Status s = fhir::CheckResource(checked->root(), type, fhir::Model::R4()); !s.ok()) {
      return Reject(where, s);
    }
    std::string id(checked->root().FindString("id"));
    if (id.empty()) id = ids_.NewId();
    Pending p;
    p.where = where;
    p.op.type = type;
    p.op.id = id;
    p.op.last_updated = clock_.Now();
    // Assume a new resource; Flush() turns conflicts into updates.
    p.op.kind = store::WriteKind::kCreate;
    p.op.expected_version = store::kExpectNone;
    p.op.json = fhir::StoredJson(*checked, id, 1, p.op.last_updated);
    docs_.push_back(std::move(checked).value());
    pending_.push_back(std::move(p));
    if (static_cast<int>(pending_.size()) >= batch_) Flush();
  }

  // Hands the pending lines to a writer (waiting for one when all are busy).
  void Flush() {
    if (pending_.empty()) return;
    auto batch = std::make_shared<Batch>(Batch{std::move(pending_), std::move(docs_)});
    pending_.clear();
    docs_.clear();
    if (writers_ <= 1) return Write(*batch);
    if (inflight_.size() >= writers_) {
      inflight_.front().get();
      inflight_.pop_front();
    }
    inflight_.push_back(std::async(std::launch::async, [this, batch] { Write(*batch); }));
  }

  // Flushes and waits for every batch.
  void Finish() {
    Flush();
    for (auto& f : inflight_) f.get();
    inflight_.clear();
  }

  int64_t loaded() const { return loaded_; }
  int64_t rejected() const { return rejected_; }

 private:
  struct Batch {
    std::vector<Pending> pending;
    std::vector<json::Document> docs;
  };

  void Write(Batch& batch) {
    std::vector<store::WriteOp> ops;
    ops.reserve(batch.pending.size());
    for (size_t i = 0; i < batch.pending.size(); ++i) {
      ops.push_back(batch.pending[i].op);
      ops.back().document = &batch.docs[i];  // indexed as parsed, not parsed again
    }
    auto written = store_.Write(ops);
    if (written.ok()) {
      loaded_ += static_cast<int64_t>(ops.size());
    } else {
      // Some resource already exists (or appears twice): write one by one as updates.
      for (size_t i = 0; i < batch.pending.size(); ++i) {
        WriteAsUpdate(batch.pending[i], batch.docs[i]);
      }
    }
  }

  void WriteAsUpdate(Pending& p, json::Document& doc) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto cur = store_.Read(p.op.type, p.op.id);
      int64_t current = cur.ok() ? cur->version : store::kExpectNone;
      if (!cur.ok() && cur.status().code() != StatusCode::kNotFound) {
        return Reject(p.where, cur.status());
      }
      p.op.kind =
          current == store::kExpectNone ? store::WriteKind::kCreate : store::WriteKind::kUpdate;
      p.op.expected_version = current;
      p.op.last_updated = clock_.Now();
      p.op.json = fhir::StoredJson(doc, p.op.id, current + 1, p.op.last_updated);
      p.op.document = &doc;
      auto written = store_.Write({&p.op, 1});
      if (written.ok()) {
        ++loaded_;
        return;
      }
      if (written.status().code() != StatusCode::kConflict) {
        return Reject(p.where, written.status());
      }
    }
    Reject(p.where, Status(StatusCode::kConflict, "kept changing while being imported"));
  }

  void Reject(const std::string& where, const Status& s) {
    std::lock_guard lock(report_mu_);
    ++rejected_;
    if (rejected_ <= 50) std::cerr << where << ": " << s.ToString() << "\n";
  }

  store::Store& store_;
  int batch_;
  size_t writers_;
  std::deque<std::future<void>> inflight_;
  std::mutex report_mu_;
  SystemClock clock_;
  UuidV7Generator ids_{clock_};
  std::vector<Pending> pending_;
  std::vector<json::Document> docs_;
  std::atomic<int64_t> loaded_ = 0;
  std::atomic<int64_t> rejected_ = 0;
};

int RunImport(const ImportFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  if (!choice.ok()) {
    std::cerr << "vesta import: " << choice.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<store::Store>> store = Status(StatusCode::kInternal, "not opened");
  if (choice->postgres) {
    store = OpenPostgresStore(choice->uri, flags.connections);
  } else {
    store::SqliteStoreOptions options;
    options.directory = choice->directory;
    // A bulk load can be rerun: let SQLite sync at checkpoints, then once at the end (Close).
    options.durability = flags.fast ? store::Durability::kNormal : store::Durability::kFull;
    store = store::OpenSqliteStore(options);
  }
  if (!store.ok()) {
    std::cerr << "vesta import: " << store.status().message() << "\n";
    return 1;
  }
  Importer importer(**store, flags.batch, choice->postgres ? flags.connections : 1);
  std::vector<std::string> files = ExpandInputs(flags.inputs);
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "vesta import: cannot read " << file << "\n";
      importer.Finish();
      (void)(*store)->Close();
      return 1;
    }
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      importer.Add(line, file + ":" + std::to_string(n));
    }
  }
  importer.Finish();
  if (Status s = (*store)->Close(); !s.ok()) {
    std::cerr << "vesta import: closing the store: " << s.message() << "\n";
    return 1;
  }
  if (choice->postgres) {
    // The planner's statistics for what was just loaded (autovacuum would get there later).
    if (Status s = AnalyzePostgres(choice->uri); !s.ok()) {
      std::cerr << "vesta import: ANALYZE after the load: " << s.message() << "\n";
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "imported " << importer.loaded() << " resources from " << files.size()
            << " file(s) in " << secs << " s (" << static_cast<int64_t>(importer.loaded() / secs)
            << "/s); " << importer.rejected() << " rejected\n";
  return importer.rejected() == 0 ? 0 : 3;
}

void AddImport(CLI::App& app) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "import", "Load FHIR NDJSON files (or folders of *.ndjson) into the store, without HTTP");
  cmd->add_option("inputs", flags->inputs, "NDJSON files or folders")->required();
  cmd->add_option("--data-dir", flags->data_dir, "The SQLite store to load into")
      ->capture_default_str();
  cmd->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI (the password "
                  "from PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--connections", flags->connections,
                  "PostgreSQL: batches written at once, each on its own connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--batch", flags->batch, "Resources per atomic write")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--fast", flags->fast,
                "Sync at checkpoints and at the end instead of every batch (rerun on a crash)");
  cmd->callback([flags] {
    int rc = RunImport(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddImport);

}  // namespace vesta::cli
