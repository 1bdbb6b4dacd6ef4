// libFuzzer target for the full-text parts of search (built with -DVESTA_FUZZ=ON and clang, see
// docs/conformance.md). Arbitrary bytes go to NarrativeText (as a narrative div) and, as a search
// value, to TextMatchExpression for _text and _content. An expression that is accepted must be
// one FTS5 runs without error on a table with the schema of 009_text.sql: anything else would
// mean user text reached FTS5 as syntax.
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "search/text.h"
#include "store/sqlite/search_sql.h"

namespace {

sqlite3* Db() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    if (sqlite3_open(":memory:", &d) != SQLITE_OK) std::abort();
    const char* schema =
        "CREATE VIRTUAL TABLE search_text USING fts5(narrative, content, content = '',"
        " tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);"
        "INSERT INTO search_text (rowid, narrative, content) VALUES"
        " (1, 'heart failure', 'near narrative content or and not'),"
        " (2, 'café au lait', 'x y z');";
    if (sqlite3_exec(d, schema, nullptr, nullptr, nullptr) != SQLITE_OK) std::abort();
    return d;
  }();
  return db;
}

void RunMatch(const std::string& expr) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(Db(), "SELECT rowid FROM search_text WHERE search_text MATCH ?1", -1,
                         &stmt, nullptr) != SQLITE_OK) {
    std::abort();
  }
  sqlite3_bind_text(stmt, 1, expr.data(), static_cast<int>(expr.size()), SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) std::abort();  // an FTS5 syntax error: injection
  sqlite3_finalize(stmt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vesta::search;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string text = NarrativeText(in);
  if (text.size() > in.size() * 4 + 16) std::abort();  // entities only ever grow a little
  for (TextScope scope : {TextScope::kNarrative, TextScope::kContent}) {
    vesta::Result<std::string> expr = vesta::store::sql::TextMatchExpression(in, scope);
    if (expr.ok()) RunMatch(*expr);
  }
  return 0;
}
