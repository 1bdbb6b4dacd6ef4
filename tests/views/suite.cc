#include "views/suite.h"

#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "json/parse.h"
#include "json/writer.h"

namespace vesta::views::testing {
namespace {

// A canonical text of a JSON value for comparison: object members sorted, numbers by value
// (1.5 and 1.50 agree), strings quoted.
std::string Canonical(const json::Value& v) {
  switch (v.kind()) {
    case json::Kind::kNull:
      return "null";
    case json::Kind::kBool:
      return v.bool_value() ? "true" : "false";
    case json::Kind::kNumber: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.15g",
                    std::strtod(std::string(v.number_text()).c_str(), nullptr));
      return buf;
    }
    case json::Kind::kString:
      return json::ToString(v);
    case json::Kind::kArray: {
      std::string out = "[";
      for (const json::Value& i : v.items()) out += Canonical(i) + ",";
      return out + "]";
    }
    case json::Kind::kObject: {
      std::vector<std::string> members;
      for (const json::Member& m : v.members()) {
        members.push_back(std::string(m.key) + ":" + Canonical(m.value));
      }
      std::sort(members.begin(), members.end());
      std::string out = "{";
      for (const std::string& m : members) out += m + ",";
      return out + "}";
    }
  }
  return "";
}

std::vector<std::string> CanonicalRows(const json::Value& rows) {
  std::vector<std::string> out;
  for (const json::Value& r : rows.items()) out.push_back(Canonical(r));
  std::sort(out.begin(), out.end());
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : "\n      ") + s;
  return out;
}

}  // namespace

std::string SuiteDirectory() {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  if (shared == nullptr) return "";
  std::string dir = std::string(shared) + "/sql-on-fhir-v2/tests";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return "";
  closedir(d);
  return dir;
}

Result<Suite> LoadSuite(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return NotFound("cannot open " + dir);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".json")) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  Suite suite;
  suite.documents.reserve(names.size());
  for (const std::string& n : names) {
    std::ifstream in(dir + "/" + n, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Result<json::Document> doc = json::Parse(text.str());
    if (!doc.ok()) return Invalid(n + ": " + doc.status().message());
    suite.documents.push_back(std::move(*doc));
    const json::Value& root = suite.documents.back().root();
    const json::Value* tests = root.Find("tests");
    const json::Value* resources = root.Find("resources");
    if (tests == nullptr || resources == nullptr) return Invalid(n + ": no tests or resources");
    for (const json::Value& t : tests->items()) {
      SuiteCase c;
      c.file = n;
      c.title = std::string(t.FindString("title"));
      c.view = t.Find("view");
      c.resources = resources;
      c.expect = t.Find("expect");
      c.expect_columns = t.Find("expectColumns");
      if (const json::Value* e = t.Find("expectError"))
        c.expect_error = e->is_bool() && e->bool_value();
      if (const json::Value* e = t.Find("expectCount")) {
        c.expect_count = std::atoll(std::string(e->number_text()).c_str());
      }
      suite.cases.push_back(c);
    }
  }
  return suite;
}

bool Judge(const SuiteCase& c, const CaseOutput& out, std::string* why) {
  if (c.expect_error) {
    if (!out.status.ok()) return true;
    *why = "expected an error, got rows " + out.rows_json;
    return false;
  }
  if (!out.status.ok()) {
    *why = "failed: " + out.status.message();
    return false;
  }
  Result<json::Document> rows = json::Parse(out.rows_json);
  if (!rows.ok() || !rows->root().is_array()) {
    *why = "the output is not a JSON array: " + out.rows_json;
    return false;
  }
  if (c.expect_columns != nullptr) {
    std::vector<std::string> want;
    for (const json::Value& n : c.expect_columns->items()) want.emplace_back(n.string_value());
    if (want != out.columns) {
      *why = "columns differ: want " + Join(want) + ", got " + Join(out.columns);
      return false;
    }
  }
  if (c.expect_count >= 0) {
    if (static_cast<int64_t>(rows->root().items().size()) != c.expect_count) {
      *why = "want " + std::to_string(c.expect_count) + " rows, got " +
             std::to_string(rows->root().items().size());
      return false;
    }
    return true;
  }
  if (c.expect == nullptr) {
    *why = "the case has no expectation";
    return false;
  }
  std::vector<std::string> want = CanonicalRows(*c.expect);
  std::vector<std::string> got = CanonicalRows(rows->root());
  if (want != got) {
    *why = "rows differ:\n    want " + Join(want) + "\n    got  " + Join(got);
    return false;
  }
  return true;
}

int RunSuite(const Suite& suite, const std::string& label,
             const std::function<CaseOutput(const SuiteCase&)>& run) {
  int passed = 0;
  for (const SuiteCase& c : suite.cases) {
    std::string why;
    if (Judge(c, run(c), &why)) {
      ++passed;
    } else {
      std::cout << "MISS " << c.file << " \"" << c.title << "\": " << why << "\n";
    }
  }
  std::cout << "SQL on FHIR conformance" << (label.empty() ? "" : " (" + label + ")") << ": "
            << passed << " of " << suite.cases.size() << " passed\n";
  return passed;
}

}  // namespace vesta::views::testing
