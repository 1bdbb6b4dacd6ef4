// `vesta import`: bulk-load FHIR resources straight into the store, without HTTP (docs/import.md).
//
//   vesta import --data-dir ./vesta-data FILE_OR_DIR... [-]
//   PGPASSWORD=... vesta import --store postgresql://vesta@db.example/vesta FILE_OR_DIR...
//
// Takes NDJSON (the Bulk Data format, https://hl7.org/fhir/uv/bulkdata/: one resource per line)
// of any types, transaction, batch and collection Bundles (*.json), folders of them, gzip, and
// standard input. Every resource gets the checks of a REST create or update; a resource that
// exists already gets a new version only when its content differs. A rejected line or entry is
// reported as `where: reason` and written to the reject file; the rest loads. The pipeline is in
// src/ingest (importer.h); this file is the command line, the progress display and the summary.
//
// Exit status: 0 everything loaded, 3 some lines or entries rejected, 1 fatal (the store or an
// input cannot be opened, the store fails). On SQLite the server must not be running on the same
// data directory; on PostgreSQL it may.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/command.h"
#include "cli/store_choice.h"
#include "fhir/model/model.h"
#include "ingest/importer.h"
#include "ingest/rejects.h"
#include "ingest/sources.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

constexpr size_t kRejectsPrinted = 50;

struct ImportFlags {
  std::string data_dir = "./vesta-data";
  std::string store;  // --store: sqlite:DIR or a PostgreSQL URI; empty: SQLite in data_dir
  int connections = 4;
  std::vector<std::string> inputs;
  int batch = 500;
  int threads = 0;
  bool fast = false;
  bool quiet = false;
  std::string rejects = "import-rejects.ndjson";
  std::string referential_integrity = "on";
  bool keep_last_updated = false;
  std::string validation = "strict";
};

// 1234567 -> "1,234,567".
std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string Duration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

// stderr shared by the progress line and the reject messages: on a terminal the progress line is
// redrawn in place, and a message first clears it.
class Console {
 public:
  explicit Console(bool terminal) : terminal_(terminal) {}
  bool terminal() const { return terminal_; }

  void Message(const std::string& text) {
    std::lock_guard lock(mu_);
    if (terminal_ && drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
    std::fputs((text + "\n").c_str(), stderr);
  }
  void Progress(const std::string& text) {
    std::lock_guard lock(mu_);
    if (terminal_) {
      std::fputs(("\r\033[K" + text).c_str(), stderr);
      drawn_ = true;
    } else {
      std::fputs(("vesta import: " + text + "\n").c_str(), stderr);
    }
    std::fflush(stderr);
  }
  void ClearProgress() {
    std::lock_guard lock(mu_);
    if (terminal_ && drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  bool terminal_;
  std::mutex mu_;
  bool drawn_ = false;
};

std::string ProgressLine(const ingest::ImportProgress& p, double seconds) {
  const int64_t done = p.counts.total();
  std::string line = Grouped(done) + " resources";
  if (seconds > 0.5) line += "  " + Grouped(static_cast<int64_t>(done / seconds)) + "/s";
  if (p.pass == 0) {
    line += "  " + Megabytes(p.bytes_read);
    if (p.bytes_total >= 0) line += " of " + Megabytes(p.bytes_total);
    line += " MB";
    if (p.bytes_total > 0) {
      line +=
          " (" + std::to_string(std::min<int64_t>(100, p.bytes_read * 100 / p.bytes_total)) + "%)";
    }
    if (p.bytes_total > 0 && p.bytes_read > 0 && seconds > 1) {
      double rate = p.bytes_read / seconds;
      line += "  ETA " + Duration(static_cast<double>(p.bytes_total - p.bytes_read) / rate);
    }
    if (p.deferred > 0) line += "  (" + Grouped(p.deferred) + " deferred)";
  } else {
    line += "  pass " + std::to_string(p.pass) + ": " + Grouped(p.deferred) +
            " deferred resources left";
  }
  if (p.counts.rejected > 0) line += "  " + Grouped(p.counts.rejected) + " rejected";
  return line;
}

// Draws the progress line until stopped: every 0.25 s on a terminal, every 5 s otherwise.
class ProgressThread {
 public:
  ProgressThread(Console& console, const ingest::Importer& importer,
                 std::chrono::steady_clock::time_point start)
      : console_(console), importer_(importer), start_(start), thread_([this] { Loop(); }) {}
  ~ProgressThread() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    console_.ClearProgress();
  }

 private:
  void Loop() {
    const auto every =
        console_.terminal() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every, [this] { return stop_; })) {
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      console_.Progress(ProgressLine(importer_.progress(), secs));
    }
  }

  Console& console_;
  const ingest::Importer& importer_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

void PrintSummary(const ingest::Importer& importer, const ingest::RejectSink& rejects, size_t files,
                  double secs) {
  const ingest::ImportProgress p = importer.progress();
  const ingest::TypeCounts& c = p.counts;
  const int64_t loaded = c.created + c.updated + c.unchanged;
  std::cout << "imported " << Grouped(loaded) << " resources (" << Grouped(c.created) << " new, "
            << Grouped(c.updated) << " updated, " << Grouped(c.unchanged) << " unchanged) from "
            << files << (files == 1 ? " input" : " inputs") << " in "
            << Megabytes(static_cast<int64_t>(secs * 1e6)) << " s ("
            << Grouped(static_cast<int64_t>(c.total() / std::max(secs, 1e-3))) << "/s); "
            << Grouped(c.rejected) << " rejected\n";
  std::map<std::string, ingest::TypeCounts> by_type = importer.counts_by_type();
  if (by_type.empty()) return;
  size_t width = 5;
  for (const auto& [type, counts] : by_type) width = std::max(width, type.size());
  auto row = [&](const std::string& name, const std::string& a, const std::string& b,
                 const std::string& d, const std::string& e) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-*s %12s %12s %12s %12s\n", static_cast<int>(width),
                  name.c_str(), a.c_str(), b.c_str(), d.c_str(), e.c_str());
    std::cout << buf;
  };
  row("type", "new", "updated", "unchanged", "rejected");
  for (const auto& [type, t] : by_type) {
    row(type, Grouped(t.created), Grouped(t.updated), Grouped(t.unchanged), Grouped(t.rejected));
  }
  row("total", Grouped(c.created), Grouped(c.updated), Grouped(c.unchanged), Grouped(c.rejected));
  if (importer.ever_deferred() > 0) {
    std::cout << Grouped(importer.ever_deferred())
              << " deferred until the inputs were read (a reference to a resource not loaded "
                 "yet), then retried in "
              << importer.passes() << (importer.passes() == 1 ? " pass" : " passes") << "\n";
  }
  if (importer.warned() > 0) {
    std::cout << Grouped(importer.warned())
              << " passed lenient validation with warnings; the first: " << importer.first_warning()
              << "\n";
  }
  if (rejects.count() > 0) {
    std::cout << Grouped(rejects.count()) << " rejected";
    if (rejects.count() > static_cast<int64_t>(kRejectsPrinted)) {
      std::cout << " (the first " << kRejectsPrinted << " shown above)";
    }
    if (rejects.file_written()) std::cout << ": every one is in " << rejects.path();
    std::cout << "\n";
  }
}

int RunImport(const ImportFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  Result<StoreChoice> choice = ChooseStore(flags.store, flags.data_dir);
  if (!choice.ok()) {
    std::cerr << "vesta import: " << choice.status().message() << "\n";
    return 1;
  }
  Result<std::vector<ingest::Source>> sources = ingest::ExpandInputs(flags.inputs);
  if (!sources.ok()) {
    std::cerr << "vesta import: " << sources.status().message() << "\n";
    return 1;
  }
  if (std::count_if(sources->begin(), sources->end(),
                    [](const ingest::Source& s) { return s.path == "-"; }) > 1) {
    std::cerr << "vesta import: standard input (-) can be read once only\n";
    return 1;
  }
  // The reject file is rewritten at the first reject: it must not be one of the inputs.
  for (const ingest::Source& s : *sources) {
    struct stat a {
    }, b{};
    if (s.path != "-" && stat(s.path.c_str(), &a) == 0 && stat(flags.rejects.c_str(), &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      std::cerr << "vesta import: the reject file " << flags.rejects
                << " is also an input; name another with --rejects\n";
      return 1;
    }
  }
  const int threads = flags.threads > 0
                          ? flags.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  Result<std::unique_ptr<store::Store>> store = Status(StatusCode::kInternal, "not opened");
  if (choice->postgres) {
    // The writers' connections, and one for each worker's and the sequencer's reads.
    store = OpenPostgresStore(choice->uri, flags.connections + threads + 1);
  } else {
    store::SqliteStoreOptions options;
    options.directory = choice->directory;
    // A bulk load can be rerun: let SQLite sync at checkpoints, then once at the end (Close).
    options.durability = flags.fast ? store::Durability::kNormal : store::Durability::kFull;
    options.read_connections = threads + flags.connections + 1;
    // The importer reads to check references and to compare reruns, rarely the same resource
    // twice: a cache of read versions would only hold memory (ingest keeps its own of the keys).
    options.read_cache_bytes = 0;
    // Into an empty or small store, the indexes whose keys arrive in random order are built once
    // at the end (docs/storage.md, "Bulk loads"); searches meanwhile (conditional references) give
    // the same results, more slowly.
    options.bulk_load = true;
    store = store::OpenSqliteStore(options);
  }
  if (!store.ok()) {
    std::cerr << "vesta import: " << store.status().message() << "\n";
    return 1;
  }

  Console console(isatty(STDERR_FILENO) == 1);
  ingest::RejectSink rejects(flags.rejects, kRejectsPrinted,
                             [&console](const std::string& line) { console.Message(line); });
  ingest::ImportOptions options;
  options.threads = threads;
  options.writers = flags.connections;
  options.batch = flags.batch;
  options.referential_integrity = flags.referential_integrity == "on";
  options.keep_last_updated = flags.keep_last_updated;
  options.lenient_validation = flags.validation == "lenient";
  ingest::Importer importer(**store, fhir::Model::R4(), options, rejects);
  Status fatal;
  {
    std::unique_ptr<ProgressThread> progress;
    if (!flags.quiet) progress = std::make_unique<ProgressThread>(console, importer, start);
    fatal = importer.Run(*sources);
  }
  // Closing may take a while: the last commits, and on SQLite the indexes of a bulk load.
  if (!flags.quiet) console.Progress("closing the store");
  Status closed = (*store)->Close();
  console.ClearProgress();
  Status rejects_closed = rejects.Close();
  if (choice->postgres && fatal.ok() && closed.ok()) {
    // The planner's statistics for what was just loaded (autovacuum would get there later).
    if (Status s = AnalyzePostgres(choice->uri); !s.ok()) {
      std::cerr << "vesta import: ANALYZE after the load: " << s.message() << "\n";
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!flags.quiet) PrintSummary(importer, rejects, sources->size(), secs);
  if (!rejects_closed.ok()) std::cerr << "vesta import: " << rejects_closed.message() << "\n";
  if (!fatal.ok()) {
    std::cerr << "vesta import: stopped: " << fatal.message() << "\n";
    return 1;
  }
  if (!closed.ok()) {
    std::cerr << "vesta import: closing the store: " << closed.message() << "\n";
    return 1;
  }
  return rejects.count() == 0 ? 0 : 3;
}

void AddImport(CLI::App& app) {
  auto flags = std::make_shared<ImportFlags>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Load FHIR resources into the store, without HTTP: NDJSON (.ndjson), Bundles and single "
      "resources (.json), gzip (.gz), folders of them, and - for standard input");
  cmd->add_option("inputs", flags->inputs,
                  "Files, folders (searched recursively) and - (standard input, NDJSON)")
      ->required();
  cmd->add_option("--data-dir", flags->data_dir, "The SQLite store to load into")
      ->capture_default_str();
  cmd->add_option("--store", flags->store,
                  "sqlite:DIR (the same as --data-dir DIR) or a postgresql:// URI (the password "
                  "from PGPASSWORD or ~/.pgpass)");
  cmd->add_option("--connections", flags->connections,
                  "Batches written at once (PostgreSQL: each on its own connection)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--batch", flags->batch, "Resources per atomic write")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--threads", flags->threads,
                  "Threads that parse and check resources (default: the number of cores)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--rejects", flags->rejects,
                  "The reject file: one NDJSON line per rejected line or entry (where, reason, "
                  "the line), written only when something is rejected")
      ->capture_default_str();
  cmd->add_option("--referential-integrity", flags->referential_integrity,
                  "on: a relative reference must name a resource in the store or in the input "
                  "(as the REST API checks); off: references are stored unchecked")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--validation", flags->validation, kValidationHelp)
      ->capture_default_str()
      ->check(CLI::IsMember({"strict", "lenient"}));
  cmd->add_flag("--keep-last-updated", flags->keep_last_updated,
                "A resource new to the store keeps its meta.lastUpdated (restoring an export into "
                "a fresh store byte for byte); without it every version written is stamped now");
  cmd->add_flag("--fast", flags->fast,
                "Sync at checkpoints and at the end instead of every batch (rerun on a crash)");
  cmd->add_flag("-q,--quiet", flags->quiet,
                "No progress and no summary (rejects and errors are still printed)");
  cmd->callback([flags] {
    int rc = RunImport(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace

VESTA_COMMAND(AddImport);

}  // namespace vesta::cli
