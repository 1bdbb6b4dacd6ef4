// The FHIRPath cases written as data: every `cases/*.txt` file is one test, and every case in it
// is reported by file and line when it fails. cases/README.md describes the format.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

const std::filesystem::path& CasesDir() {
  static const std::filesystem::path dir =
      std::filesystem::path(VESTA_SOURCE_DIR) / "tests/fhir/fhirpath/cases";
  return dir;
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(CasesDir(), ec)) {
    if (e.path().extension() == ".txt") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

// Everything a file's directives set for the cases after them.
struct Settings {
  std::string resource = std::string(kPatient);
  CompileOptions options;
  Environment env;
};

// Compiles and evaluates like test_util.h's Eval, with the file's settings.
std::string EvalCase(const std::string& expr, const Settings& s) {
  Result<json::Document> doc = json::Parse(s.resource);
  if (!doc.ok()) return "BAD TEST INPUT: " + doc.status().message();
  Result<Expression> e = Expression::Compile(expr, s.options);
  if (!e.ok()) return "ERROR: " + e.status().message();
  Result<Collection> r = e->Evaluate(doc->root(), s.env);
  if (!r.ok()) return "ERROR: " + r.status().message();
  return CollectionToJson(*r);
}

class FhirPathCases : public ::testing::TestWithParam<std::string> {};

TEST_P(FhirPathCases, File) {
  const std::filesystem::path path = CasesDir() / GetParam();
  const std::string file = path.string();
  std::istringstream in(ReadFile(path));
  Settings settings;
  std::string line;
  int number = 0, cases = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text[0] == '@' && text.find("  ==>  ") == std::string::npos) {  // not a date literal
      std::istringstream words(text.substr(1));
      std::string directive, value, mode;
      words >> directive >> value >> mode;
      if (directive == "resource") {
        settings.resource =
            value == "patient" ? std::string(kPatient) : ReadFile(CasesDir() / "resources" / value);
        if (settings.resource.empty()) ADD_FAILURE_AT(file.c_str(), number) << "no " << value;
      } else if (directive == "context") {
        settings.options.context_type = value == "none" ? "" : value;
        settings.options.mode = mode == "strict" ? Mode::kStrict : Mode::kNonStrict;
      } else if (directive == "now") {
        settings.env.now_micros = std::atoll(value.c_str());
      } else {
        ADD_FAILURE_AT(file.c_str(), number) << "unknown directive @" << directive;
      }
      continue;
    }
    const size_t arrow = text.find("  ==>  ");
    if (arrow == std::string::npos) {
      ADD_FAILURE_AT(file.c_str(), number) << "expected `expression  ==>  result`: " << text;
      continue;
    }
    const std::string expr = text.substr(0, arrow);
    std::string expected = text.substr(arrow + 7);
    // A trailing comment (after four spaces and #) explains the case.
    const size_t comment = expected.find("    # ");
    if (comment != std::string::npos) expected = Trim(expected.substr(0, comment));
    const std::string actual = EvalCase(expr, settings);
    ++cases;
    if (expected == "ERROR") {
      if (!IsError(actual)) {
        ADD_FAILURE_AT(file.c_str(), number) << expr << "\n  expected an error, got " << actual;
      }
    } else if (actual != expected) {
      ADD_FAILURE_AT(file.c_str(), number)
          << expr << "\n  expected " << expected << "\n  actual   " << actual;
    }
  }
  EXPECT_GT(cases, 0) << file << " has no cases";
}

INSTANTIATE_TEST_SUITE_P(Data, FhirPathCases, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace vesta::fhirpath::testing
