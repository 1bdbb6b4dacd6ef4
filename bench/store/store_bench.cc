// Durable single-op writes: the SQLite store (group commit) against raw SQLite doing one
// INSERT + COMMIT per row (into a bare table, and into Vesta's own tables and indexes), all in
// WAL mode with synchronous=FULL, at 1 and 32 writer threads.
// The baselines share one connection behind a mutex: that is the best one can do without
// grouping (SQLite has one writer at a time), and it avoids timing SQLite's busy-wait sleeps.
//
// Run (see docs/benchmarks.md, "Store"): bench/store/run.sh <build dir>
// VESTA_BENCH_DIR picks the file system the databases go to (default: the system temp dir).
// The benchmarks are registered A B A B so that one run alternates them.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::store {
namespace {

// A realistic small resource (461 bytes).
const std::string kPatientJson =
    R"({"resourceType":"Patient","id":"x","meta":{"versionId":"1",)"
    R"("lastUpdated":"2026-11-24T01:52:59.123456Z"},"identifier":[{"system":)"
    R"("urn:oid:2.16.840.1.113883.4.1","value":"123-45-6789"}],"name":[{"family":"Chalmers",)"
    R"("given":["Peter","James"]}],"telecom":[{"system":"phone","value":"(03) 5555 6473",)"
    R"("use":"work"}],"gender":"male","birthDate":"1974-12-25","address":[{"use":"home",)"
    R"("line":["534 Erewhon St"],"city":"PleasantVille","state":"Vic","postalCode":"3999"}]})";

std::string MakeTempDir() {
  const char* base = getenv("VESTA_BENCH_DIR");
  std::filesystem::path root =
      base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
  std::string pattern = (root / "vesta-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

// State shared by the threads of one benchmark run; made by Setup, dropped by Teardown (both
// run once per run, outside the threads).
std::string g_dir;
std::unique_ptr<Store> g_store;
sqlite3* g_raw = nullptr;
std::mutex g_raw_mu;
std::atomic<int64_t> g_next_id{0};

void SetUpVesta(const benchmark::State&) {
  g_dir = MakeTempDir();
  SqliteStoreOptions options;
  options.directory = g_dir;
  options.durability = Durability::kFull;
  auto store = OpenSqliteStore(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::abort();
  }
  g_store = std::move(store).value();
}

void TearDownVesta(const benchmark::State&) {
  (void)g_store->Close();
  g_store.reset();
  std::filesystem::remove_all(g_dir);
}

void MustExec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(g_raw, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, error);
    std::abort();
  }
}

// Opens g_raw on a new database in a new g_dir, in WAL mode with synchronous=FULL.
void OpenRaw() {
  g_dir = MakeTempDir();
  std::string path = g_dir + "/raw.db";
  if (sqlite3_open(path.c_str(), &g_raw) != SQLITE_OK) std::abort();
  MustExec("PRAGMA journal_mode = WAL");
  MustExec("PRAGMA synchronous = FULL");
}

void SetUpRaw(const benchmark::State&) {
  OpenRaw();
  // The same row shape as Vesta's `resource` table, without its indexes and current-version
  // table: the baseline is the cost of the I/O, not of our schema.
  MustExec(
      "CREATE TABLE resource (seq INTEGER PRIMARY KEY, type TEXT, id TEXT, version INTEGER,"
      " last_updated INTEGER, deleted INTEGER, json BLOB)");
}

// The baseline with Vesta's own tables and indexes: separates what the schema costs from what the
// writer thread and savepoints cost.
void SetUpRawVestaSchema(const benchmark::State&) {
  OpenRaw();
  for (const auto& m : sqlite_internal::EmbeddedMigrations()) MustExec(m.sql);
}

void TearDownRaw(const benchmark::State&) {
  sqlite3_close(g_raw);
  g_raw = nullptr;
  std::filesystem::remove_all(g_dir);
}

void BM_VestaDurableWrite(benchmark::State& state) {
  for (auto _ : state) {
    WriteOp op;
    op.kind = WriteKind::kCreate;
    op.type = "Patient";
    op.id = "p" + std::to_string(g_next_id++);
    op.last_updated = 1795485179000000;
    op.json = kPatientJson;
    auto written = g_store->Write(std::span<const WriteOp>(&op, 1));
    if (!written.ok()) {
      state.SkipWithError(written.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Inserts version 1 of Patient `id` into g_raw's `resource` table; SQLite's result code.
// REQUIRES: g_raw_mu held, inside a transaction.
int InsertResourceRow(const std::string& id) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(g_raw,
                     "INSERT INTO resource (type, id, version, last_updated, deleted, json)"
                     " VALUES ('Patient', ?1, 1, 1795485179000000, 0, ?2)",
                     -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(stmt, 2, kPatientJson.data(), static_cast<int>(kPatientJson.size()),
                    SQLITE_STATIC);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return rc;
}

void BM_RawSqliteDurableWrite(benchmark::State& state) {
  for (auto _ : state) {
    std::string id = "p" + std::to_string(g_next_id++);
    std::lock_guard lock(g_raw_mu);
    MustExec("BEGIN IMMEDIATE");
    int rc = InsertResourceRow(id);
    if (rc != SQLITE_DONE) {
      state.SkipWithError(sqlite3_errmsg(g_raw));
      break;
    }
    MustExec("COMMIT");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RawSqliteVestaSchemaDurableWrite(benchmark::State& state) {
  for (auto _ : state) {
    std::string id = "p" + std::to_string(g_next_id++);
    std::lock_guard lock(g_raw_mu);
    MustExec("BEGIN IMMEDIATE");
    int rc = InsertResourceRow(id);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(g_raw,
                       "INSERT INTO resource_current (type, id, version, seq)"
                       " VALUES ('Patient', ?1, 1, last_insert_rowid())",
                       -1, &stmt, nullptr);
    sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    if (rc == SQLITE_DONE) rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
      state.SkipWithError(sqlite3_errmsg(g_raw));
      break;
    }
    MustExec("COMMIT");
  }
  state.SetItemsProcessed(state.iterations());
}

// Alternating registration: raw, raw with Vesta's schema, Vesta at 1 thread, then raw, Vesta at
// 32 threads (the raw baselines serialize on one connection, so 32 threads add nothing to the
// schema comparison).
BENCHMARK(BM_RawSqliteDurableWrite)
    ->Setup(SetUpRaw)
    ->Teardown(TearDownRaw)
    ->Threads(1)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(BM_RawSqliteVestaSchemaDurableWrite)
    ->Setup(SetUpRawVestaSchema)
    ->Teardown(TearDownRaw)
    ->Threads(1)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(BM_VestaDurableWrite)
    ->Setup(SetUpVesta)
    ->Teardown(TearDownVesta)
    ->Threads(1)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(BM_RawSqliteDurableWrite)
    ->Setup(SetUpRaw)
    ->Teardown(TearDownRaw)
    ->Threads(32)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK(BM_VestaDurableWrite)
    ->Setup(SetUpVesta)
    ->Teardown(TearDownVesta)
    ->Threads(32)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace
}  // namespace vesta::store

BENCHMARK_MAIN();
