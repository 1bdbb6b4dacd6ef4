// The SQL on FHIR v2 conformance suite through the binary: for each case the view and the
// file's resources are written to a temporary folder (the resources as NDJSON) and
// `vesta view run VIEW --ndjson FILE --format json --out OUT` runs; a non-zero exit is the case's
// error, otherwise OUT holds the rows. All 134 cases (about 10 ms each).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "json/writer.h"
#include "views/suite.h"

namespace vesta::views {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

testing::CaseOutput RunBinary(const std::string& dir, const testing::SuiteCase& c) {
  testing::CaseOutput out;
  const std::string view = dir + "/view.json", input = dir + "/resources.ndjson",
                    rows = dir + "/rows.json", errors = dir + "/stderr.txt";
  WriteFile(view, json::ToString(*c.view));
  std::string ndjson;
  for (const json::Value& r : c.resources->items()) ndjson += json::ToString(r) + "\n";
  WriteFile(input, ndjson);
  unlink(rows.c_str());
  const std::string cmd = Quote(VESTA_BINARY) + " view run " + Quote(view) + " --ndjson " +
                          Quote(input) + " --format json --out " + Quote(rows) + " 2>" +
                          Quote(errors);
  const int rc = std::system(cmd.c_str());
  std::stringstream text;
  if (rc != 0) {
    text << std::ifstream(errors).rdbuf();
    out.status = Invalid("exit status " + std::to_string(WEXITSTATUS(rc)) + ": " + text.str());
    return out;
  }
  text << std::ifstream(rows, std::ios::binary).rdbuf();
  out.rows_json = text.str();
  // JSON objects do not keep an order the comparison can trust: the column order comes from the
  // CSV header of a second run.
  if (c.expect_columns != nullptr) {
    const std::string csv = dir + "/rows.csv";
    const std::string again = Quote(VESTA_BINARY) + " view run " + Quote(view) + " --ndjson " +
                              Quote(input) + " --format csv --out " + Quote(csv) + " 2>/dev/null";
    if (std::system(again.c_str()) == 0) {
      std::ifstream in(csv, std::ios::binary);
      std::string header;
      std::getline(in, header);
      if (!header.empty() && header.back() == '\r') header.pop_back();
      std::stringstream names(header);
      for (std::string name; std::getline(names, name, ',');) out.columns.push_back(name);
    }
    unlink(csv.c_str());
  }
  return out;
}

TEST(ViewRunConformance, EveryCasePassesThroughTheBinary) {
  const std::string suite_dir = testing::SuiteDirectory();
  if (suite_dir.empty()) GTEST_SKIP() << "sql-on-fhir-v2/tests not found under VESTA_SHARED_DATA";
  Result<testing::Suite> suite = testing::LoadSuite(suite_dir);
  ASSERT_TRUE(suite.ok()) << suite.status().message();
  char tmpl[] = "/tmp/vesta-view-run-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const int passed = testing::RunSuite(
      *suite, "vesta view run", [&](const testing::SuiteCase& c) { return RunBinary(dir, c); });
  EXPECT_EQ(passed, static_cast<int>(suite->cases.size()));
  for (const char* f : {"/view.json", "/resources.ndjson", "/rows.json", "/stderr.txt"}) {
    unlink((dir + f).c_str());
  }
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace vesta::views
