// The SQL on FHIR v2 conformance suite (https://sql-on-fhir.org/ig/latest/tests.html; the
// format is tests.schema.json beside the tests): files of resources and cases, each case a view
// with the rows it must give (`expect`, compared as a multiset of rows, as the reference runner
// does), a row count (`expectCount`) or an error (`expectError`), and optionally the column
// names in order (`expectColumns`).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::views::testing {

struct SuiteCase {
  std::string file;   // "basic.json"
  std::string title;  // the case's title
  const json::Value* view = nullptr;
  const json::Value* resources = nullptr;  // the file's resources (an array)
  const json::Value* expect = nullptr;     // rows, or nullptr
  const json::Value* expect_columns = nullptr;
  bool expect_error = false;
  int64_t expect_count = -1;
};

struct Suite {
  std::vector<json::Document> documents;  // what the cases point into
  std::vector<SuiteCase> cases;
};

// The suite's folder (VESTA_SHARED_DATA/sql-on-fhir-v2/tests), or "" when it is absent.
std::string SuiteDirectory();
// Every *.json file of `dir`, in name order.
Result<Suite> LoadSuite(const std::string& dir);

// What a runner produced for a case: an error (the view was refused or failed), or the column
// names and the rows as a JSON array text.
struct CaseOutput {
  Status status = Status::Ok();
  std::vector<std::string> columns;
  std::string rows_json;
};

// Whether `out` is what `c` expects; on a miss, *why says how.
bool Judge(const SuiteCase& c, const CaseOutput& out, std::string* why);

// Runs every case with `run`, prints each miss and the summary line
// "SQL on FHIR conformance (<label>): N of M passed", and returns the number passed.
int RunSuite(const Suite& suite, const std::string& label,
             const std::function<CaseOutput(const SuiteCase&)>& run);

}  // namespace vesta::views::testing
