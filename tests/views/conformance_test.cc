// The SQL on FHIR v2 conformance suite, run in process: each case's view parsed with
// views::View::Parse and run with views::ViewOutput (JSON) over the file's resources.
#include <gtest/gtest.h>

#include "views/output.h"
#include "views/suite.h"
#include "views/view.h"

namespace vesta::views {
namespace {

testing::CaseOutput RunInProcess(const testing::SuiteCase& c) {
  testing::CaseOutput out;
  Result<View> view = View::Parse(*c.view);
  if (!view.ok()) {
    out.status = view.status();
    return out;
  }
  for (const ColumnInfo& col : view->columns()) out.columns.push_back(col.name);
  ViewOutput run(*view, Format::kJson, [&](std::string_view chunk) {
    out.rows_json += chunk;
    return Status::Ok();
  });
  out.status = run.Begin();
  for (const json::Value& r : c.resources->items()) {
    if (!out.status.ok()) break;
    out.status = run.Add(r);
  }
  if (out.status.ok()) out.status = run.Finish();
  return out;
}

TEST(ViewsConformance, EveryCasePasses) {
  const std::string dir = testing::SuiteDirectory();
  if (dir.empty()) GTEST_SKIP() << "sql-on-fhir-v2/tests not found under VESTA_SHARED_DATA";
  Result<testing::Suite> suite = testing::LoadSuite(dir);
  ASSERT_TRUE(suite.ok()) << suite.status().message();
  EXPECT_EQ(suite->cases.size(), 134u);
  const int passed = testing::RunSuite(*suite, "", RunInProcess);
  EXPECT_EQ(passed, static_cast<int>(suite->cases.size()));
}

}  // namespace
}  // namespace vesta::views
