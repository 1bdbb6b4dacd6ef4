// Loads the real releases from the shared data folder (VESTA_SHARED_DATA/icd10cm; see its
// SOURCE.txt) and checks the counts against each file's own totals. Skips when absent.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "terminology/line_reader.h"
#include "terminology/loaders.h"
#include "terminology/terminology_service.h"
#include "terminology/test_util.h"

namespace vesta::terminology {
namespace {

using testing::Output;
using testing::TempDir;

std::string DataDir() {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  if (env == nullptr || *env == 0) return {};
  std::string dir = std::string(env) + "/icd10cm";
  return std::filesystem::is_directory(dir) ? dir : std::string();
}

// Lines of a (possibly gzipped) file, and how many contain `needle` (counted once per line).
struct LineCount {
  int64_t lines = 0;
  int64_t with_needle = 0;
};
LineCount CountLines(const std::string& path, std::string_view needle = {}) {
  LineCount c;
  auto in = InputFile::Open(path);
  EXPECT_TRUE(in.ok()) << path;
  if (!in.ok()) return c;
  std::string line;
  for (int64_t guard = 0; guard < 10'000'000; ++guard) {
    auto more = (*in)->ReadLine(&line);
    if (!more.ok() || !*more) break;
    ++c.lines;
    if (!needle.empty() && line.find(needle) != std::string::npos) ++c.with_needle;
  }
  return c;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(TerminologyFullData, LoadsAndCounts) {
  const std::string data = DataDir();
  if (data.empty()) GTEST_SKIP() << "VESTA_SHARED_DATA/icd10cm not present";
  TempDir dir;
  std::string db;
  VESTA_FRESH_LOCATION(db, dir.path());

  // FY2023 Tabular List. The XML states no total, so the expected figures were counted from the
  // file independently of this loader: 45,869 <diag> elements (SOURCE.txt), of which 22,763
  // are leaves without a 7th character; leaves under a <sevenChrDef> expand to 50,952 codes;
  // 73,715 valid codes in all (= FY2022's 72,748 + 1,255 new - 288 deleted, set difference
  // against the FY2022 order file).
  const std::string tabular = data + "/cdc-tabular-2023/icd10cm_tabular_2023.xml.gz";
  auto tab = LoadIcd10CmTabular(db, tabular);
  ASSERT_TRUE(tab.ok()) << tab.status().ToString();
  EXPECT_EQ(tab->version, "2023");
  EXPECT_EQ(tab->valid_codes, 73715);
  // Every <diag> is a concept (codes, plus placeholders such as H21.1X).
  int64_t diags = CountLines(tabular, "<diag").with_needle;
  EXPECT_EQ(diags, 45869);
  std::fprintf(stderr, "tabular: %lld concepts, %lld codes, %lld valid, %lld notes, %.2f s\n",
               static_cast<long long>(tab->concepts), static_cast<long long>(tab->codes),
               static_cast<long long>(tab->valid_codes), static_cast<long long>(tab->notes),
               tab->seconds);

  // FY2022 order file (derived TSV): its billable rows are exactly the lines of the billable
  // code list published beside it; every line after the header is a row.
  const std::string order = data + "/derived-fy2022-order/icd10cm_order_2022.tsv.gz";
  const std::string codes = data + "/derived-fy2022-order/icd10cm_codes_2022.txt";
  auto ord = LoadIcd10CmOrder(db, order);
  ASSERT_TRUE(ord.ok()) << ord.status().ToString();
  EXPECT_EQ(ord->version, "2022");
  EXPECT_EQ(ord->rows, CountLines(order).lines - 1);
  EXPECT_EQ(ord->valid_codes, CountLines(codes).lines);
  EXPECT_EQ(ord->valid_codes, 72748);
  std::fprintf(stderr, "order: %lld rows, %lld valid, %.2f s\n", static_cast<long long>(ord->rows),
               static_cast<long long>(ord->valid_codes), ord->seconds);

  // GEMs: one row per line.
  for (const char* f : {"/gems-2018/2018_I9gem.txt", "/gems-2018/2018_I10gem.txt"}) {
    auto gem = LoadGem(db, data + f);
    ASSERT_TRUE(gem.ok()) << gem.status().ToString();
    EXPECT_EQ(gem->rows, CountLines(data + f).lines) << f;
    std::fprintf(stderr, "%s: %lld rows, %.2f s\n", f, static_cast<long long>(gem->rows),
                 gem->seconds);
  }

  auto service = TerminologyService::Open(db, {});
  ASSERT_TRUE(service.ok());
  TerminologyService& s = **service;

  // Every FY2022 billable code, validated against FY2023 (the default, newest version). Of the
  // 288 FY2022 billable codes that are not FY2023 billable codes, 37 became headers (e.g. B37.3,
  // now split into B37.31 / B37.32): still codes, but "not billable". Timed as the
  // $validate-code rate.
  auto in = InputFile::Open(codes);
  ASSERT_TRUE(in.ok());
  std::string line;
  int64_t valid = 0, billable = 0, calls = 0;
  auto start = std::chrono::steady_clock::now();
  for (int64_t guard = 0; guard < 200'000; ++guard) {
    auto more = (*in)->ReadLine(&line);
    if (!more.ok() || !*more) break;
    std::string code = line.substr(0, line.find(' '));
    if (code.size() > 3) code.insert(3, ".");
    auto out = s.ValidateCodeInCodeSystem(
        OperationParams::FromQuery({{"url", std::string(kIcd10CmSystem)}, {"code", code}}));
    ASSERT_TRUE(out.ok());
    ++calls;
    if (out->find("\"valueBoolean\":true") == std::string::npos) continue;
    ++valid;
    if (out->find("not billable") == std::string::npos) ++billable;
  }
  double validate_seconds = Seconds(start);
  EXPECT_EQ(calls, 72748);
  EXPECT_EQ(billable, 72748 - 288);
  EXPECT_EQ(valid, 72748 - 288 + 37);

  start = std::chrono::steady_clock::now();
  int64_t lookups = 0;
  for (const char* code : {"E11.9", "S06.0X0A", "T14.90XA", "I50.9", "A00.0"}) {
    for (int i = 0; i < 2000; ++i) {
      auto out = s.Lookup(
          OperationParams::FromQuery({{"system", std::string(kIcd10CmSystem)}, {"code", code}}));
      ASSERT_TRUE(out.ok());
      ++lookups;
    }
  }
  double lookup_seconds = Seconds(start);
  std::fprintf(stderr, "$validate-code: %.0f calls/s; $lookup: %.0f calls/s\n",
               static_cast<double>(calls) / validate_seconds,
               static_cast<double>(lookups) / lookup_seconds);

  // The whole backward GEM as a ConceptMap: one target per row.
  start = std::chrono::steady_clock::now();
  auto cm = s.ConceptMapWithGroups("gem-icd10cm-to-icd9cm");
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  Output map(*cm);
  int64_t targets = 0;
  for (const json::Value& e : map.root().Find("group")->items()[0].Find("element")->items()) {
    targets += static_cast<int64_t>(e.Find("target")->size());
  }
  EXPECT_EQ(targets, 81593);
  std::fprintf(stderr, "ConceptMap with groups: %.1f MB in %.2f s\n",
               static_cast<double>(cm->size()) / 1e6, Seconds(start));

  // Spot checks on the real data.
  Output t(*s.Translate(
      OperationParams::FromQuery({{"system", std::string(kIcd9CmSystem)}, {"code", "428.0"}})));
  EXPECT_NE(t.text().find("\"code\":\"I50.9\""), std::string::npos);
  EXPECT_TRUE(*s.IsA(kIcd10CmSystem, "E11.9", "E11"));
  EXPECT_TRUE(*s.IsA(kIcd10CmSystem, "S06.0X0A", "S00-T88"));
  Output e(*s.Expand(OperationParams::FromQuery(
      {{"url", std::string(kIcd10CmSystem) + "?fhir_vs=isa/E11"}, {"count", "5"}})));
  EXPECT_EQ(e.root().Find("expansion")->Find("contains")->size(), 5u);
}

}  // namespace
}  // namespace vesta::terminology
