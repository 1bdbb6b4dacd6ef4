// The raw scan of the views benchmark (bench/views/views_bench.py): reads the resources of one
// type as `vesta view run` reads them, from NDJSON files or from the store page by page, and
// parses each into a json::Document, without evaluating any view or writing any row. The ceiling
// a view run could reach if evaluating the view and formatting its rows cost nothing.
//
//   view_scan --type Observation --ndjson Observation.ndjson [more.ndjson ...]
//   view_scan --type Observation --data-dir ./vesta-data [--page-size 1000]
//
// The reads are those of src/views/sources.cc: NDJSON lines that do not name the type in quotes
// skip the parser; the store is read through Store::Search with _count and _cursor, current
// versions only. Prints one line: resources=N bytes=B seconds=S. Exit status 1 on an error.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "json/parse.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace {

using vesta::Result;
using vesta::Status;

struct Totals {
  int64_t resources = 0;
  int64_t bytes = 0;
  int64_t members = 0;  // the parsed roots' members: the documents are used
};

Status ScanNdjson(const std::string& path, const std::string& type, Totals* t) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return vesta::Invalid("cannot open " + path);
  const std::string quoted_type = "\"" + type + "\"";
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.find(quoted_type) == std::string::npos) continue;
    Result<vesta::json::Document> doc = vesta::json::Parse(line);
    if (!doc.ok()) return vesta::Invalid(path + ": " + doc.status().message());
    ++t->resources;
    t->bytes += static_cast<int64_t>(line.size());
    t->members += static_cast<int64_t>(doc->root().size());
  }
  return Status::Ok();
}

Status ScanStore(vesta::store::Store& store, const std::string& type, int page_size, Totals* t) {
  std::string cursor;
  while (true) {
    vesta::store::SearchQuery q;
    q.types = {type};
    q.params.emplace_back("_count", std::to_string(page_size));
    if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
    q.default_count = page_size;
    q.max_count = page_size;
    Result<vesta::store::SearchPage> page = store.Search(q);
    if (!page.ok()) return page.status();
    for (const vesta::store::SearchHit& hit : page->entries) {
      if (hit.mode != vesta::store::SearchMode::kMatch || hit.version.deleted) continue;
      Result<vesta::json::Document> doc = vesta::json::Parse(hit.version.json);
      if (!doc.ok()) return vesta::Internal(hit.version.id + ": " + doc.status().message());
      ++t->resources;
      t->bytes += static_cast<int64_t>(hit.version.json.size());
      t->members += static_cast<int64_t>(doc->root().size());
    }
    if (page->next_cursor.empty()) return Status::Ok();
    cursor = std::move(page->next_cursor);
  }
}

int Usage() {
  std::fprintf(stderr,
               "usage: view_scan --type TYPE (--ndjson FILE... | --data-dir DIR) "
               "[--page-size N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string type, data_dir;
  std::vector<std::string> files;
  int page_size = 1000;
  bool ndjson = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--type" && i + 1 < argc) {
      type = argv[++i];
    } else if (a == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (a == "--page-size" && i + 1 < argc) {
      page_size = std::atoi(argv[++i]);
    } else if (a == "--ndjson") {
      ndjson = true;
    } else if (ndjson && !a.starts_with("--")) {
      files.push_back(a);
    } else {
      return Usage();
    }
  }
  if (type.empty() || (files.empty() == data_dir.empty()) || page_size < 1) return Usage();

  const auto start = std::chrono::steady_clock::now();
  Totals t;
  Status st = Status::Ok();
  if (!files.empty()) {
    for (const std::string& f : files) {
      st = ScanNdjson(f, type, &t);
      if (!st.ok()) break;
    }
  } else {
    vesta::store::SqliteStoreOptions options;
    options.directory = data_dir;
    Result<std::unique_ptr<vesta::store::Store>> store = vesta::store::OpenSqliteStore(options);
    if (!store.ok()) {
      st = store.status();
    } else {
      st = ScanStore(**store, type, page_size, &t);
      Status closed = (*store)->Close();
      if (st.ok()) st = closed;
    }
  }
  if (!st.ok()) {
    std::fprintf(stderr, "view_scan: %s\n", st.message().c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("resources=%lld bytes=%lld seconds=%.6f members=%lld\n",
              static_cast<long long>(t.resources), static_cast<long long>(t.bytes), seconds,
              static_cast<long long>(t.members));
  return 0;
}
