// Runs the official FHIRPath test suite for FHIR R4 (fhir-test-cases r4/tests-fhir-r4.xml) with
// the JSON forms of its input resources (fhirpath.js resources/r4/*.json).
//
// The data folder comes from VESTA_SHARED_DATA; the test skips when it is absent. It prints
// "N passed, N failed, N skipped", lists the failures, and fails when fewer than
// kMinimumPassing cases pass (the level reached when the runner was written: see
// docs/conformance.md, section FHIRPath).
#include <expat.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace vesta::fhirpath {
namespace {

constexpr int kMinimumPassing = 935;

struct Output {
  std::string type;
  std::string text;
};

struct Case {
  std::string group;
  std::string name;
  std::string inputfile;
  std::string expression;
  std::string invalid;  // "", "syntax", "semantic", "execution", "true"
  bool strict = false;
  bool check_ordered = false;
  bool predicate = false;
  std::vector<Output> outputs;
};

struct ParseState {
  std::vector<Case> cases;
  std::string group;
  std::string text;
  bool in_test = false;
  std::string element;
  Output pending;
};

const char* Attr(const char** attrs, const char* name) {
  for (int i = 0; attrs[i] != nullptr; i += 2) {
    if (std::string(attrs[i]) == name) return attrs[i + 1];
  }
  return nullptr;
}

void XMLCALL Start(void* data, const char* el, const char** attrs) {
  auto* s = static_cast<ParseState*>(data);
  std::string name = el;
  s->text.clear();
  if (name == "group") {
    const char* g = Attr(attrs, "name");
    s->group = g ? g : "";
  } else if (name == "test") {
    Case c;
    c.group = s->group;
    if (const char* v = Attr(attrs, "name")) c.name = v;
    if (const char* v = Attr(attrs, "inputfile")) c.inputfile = v;
    if (const char* v = Attr(attrs, "mode")) c.strict = std::string(v) == "strict";
    if (const char* v = Attr(attrs, "checkOrderedFunctions")) {
      c.check_ordered = std::string(v) == "true";
    }
    if (const char* v = Attr(attrs, "predicate")) c.predicate = std::string(v) == "true";
    s->cases.push_back(std::move(c));
    s->in_test = true;
  } else if (name == "expression" && s->in_test) {
    if (const char* v = Attr(attrs, "invalid")) s->cases.back().invalid = v;
    if (const char* v = Attr(attrs, "mode")) {
      s->cases.back().strict = s->cases.back().strict || std::string(v) == "strict";
    }
  } else if (name == "output" && s->in_test) {
    s->pending = Output{};
    if (const char* v = Attr(attrs, "type")) s->pending.type = v;
  }
}

void XMLCALL End(void* data, const char* el) {
  auto* s = static_cast<ParseState*>(data);
  std::string name = el;
  if (!s->in_test) return;
  if (name == "expression") {
    s->cases.back().expression = s->text;
  } else if (name == "output") {
    s->pending.text = s->text;
    s->cases.back().outputs.push_back(s->pending);
  } else if (name == "test") {
    s->in_test = false;
  }
  s->text.clear();
}

void XMLCALL Text(void* data, const char* t, int len) {
  static_cast<ParseState*>(data)->text.append(t, static_cast<size_t>(len));
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string DataDir() {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  if (env != nullptr && *env) return env;
  return std::string(VESTA_SOURCE_DIR) + "/../shared/data";
}

// Strips the literal markers so "@2014-01" and "2014-01" compare equal.
std::string Canonical(std::string s) {
  if (!s.empty() && s[0] == '@') s = s.substr(1);
  if (!s.empty() && s[0] == 'T' && s.size() > 1 && std::isdigit(static_cast<unsigned char>(s[1]))) {
    s = s.substr(1);
  }
  if (!s.empty() && s.back() == 'T') s.pop_back();
  if (s == "-0.0") s = "0.0";
  return s;
}

// The System kind an output type denotes; kNode when the type is not given.
ItemKind ExpectedKind(const std::string& type) {
  if (type == "boolean") return ItemKind::kBoolean;
  if (type == "integer") return ItemKind::kInteger;
  if (type == "decimal") return ItemKind::kDecimal;
  if (type == "date") return ItemKind::kDate;
  if (type == "dateTime") return ItemKind::kDateTime;
  if (type == "time") return ItemKind::kTime;
  if (type == "Quantity") return ItemKind::kQuantity;
  if (type.empty()) return ItemKind::kNode;
  return ItemKind::kString;  // string, code, id, uri, ...
}

bool Matches(const Item& item, const Output& expected) {
  Item v;
  std::string got;
  ItemKind want_kind = ExpectedKind(expected.type);
  if (want_kind != ItemKind::kNode && (!ToSystem(item, &v) || v.kind != want_kind)) return false;
  if (ToSystem(item, &v)) {
    if (v.kind == ItemKind::kDate || v.kind == ItemKind::kDateTime) {
      got = v.as_temporal().ToString();
    } else if (v.kind == ItemKind::kTime) {
      got = v.as_temporal().ToString();
    } else {
      got = ItemToString(v);
    }
  } else {
    got = ItemToString(item);
  }
  std::string want = Canonical(expected.text);
  if (Canonical(got) == want) return true;
  if (expected.type == "decimal" || expected.type == "integer") {
    Decimal a, b;
    if (Decimal::Parse(got, &a) && Decimal::Parse(want, &b)) return Compare(a, b) == 0;
  }
  return false;
}

TEST(FhirPathConformance, R4Suite) {
  const std::string data = DataDir();
  const std::string suite = data + "/fhirpath/fhir-test-cases/r4/tests-fhir-r4.xml";
  const std::string inputs = data + "/fhirpath/fhirpath.js/resources/r4/";
  std::string xml;
  if (!ReadFile(suite, &xml)) {
    GTEST_SKIP() << "FHIRPath R4 suite not found under VESTA_SHARED_DATA (" << suite << ")";
  }
  ParseState state;
  XML_Parser p = XML_ParserCreate("UTF-8");
  XML_SetUserData(p, &state);
  XML_SetElementHandler(p, Start, End);
  XML_SetCharacterDataHandler(p, Text);
  ASSERT_NE(XML_Parse(p, xml.data(), static_cast<int>(xml.size()), 1), XML_STATUS_ERROR)
      << XML_ErrorString(XML_GetErrorCode(p));
  XML_ParserFree(p);
  ASSERT_GT(state.cases.size(), 900u);

  std::map<std::string, std::unique_ptr<json::Document>> docs;
  int passed = 0, failed = 0, skipped = 0;
  std::vector<std::string> failures;
  Environment env;
  for (const Case& c : state.cases) {
    const json::Document* doc = nullptr;
    if (!c.inputfile.empty()) {
      std::string file = c.inputfile;
      if (file.size() > 4 && file.substr(file.size() - 4) == ".xml") {
        file = file.substr(0, file.size() - 4) + ".json";
      }
      auto it = docs.find(file);
      if (it == docs.end()) {
        std::string text;
        std::unique_ptr<json::Document> d;
        if (ReadFile(inputs + file, &text)) {
          Result<json::Document> r = json::Parse(text);
          if (r.ok()) d = std::make_unique<json::Document>(std::move(r).value());
        }
        it = docs.emplace(file, std::move(d)).first;
      }
      doc = it->second.get();
      if (doc == nullptr) {
        ++skipped;
        failures.push_back("SKIP " + c.name + ": input " + file + " missing");
        continue;
      }
    }
    CompileOptions options;
    if (doc != nullptr) options.context_type = std::string(doc->root().FindString("resourceType"));
    options.check_ordered_functions = c.check_ordered;
    options.mode = c.strict ? Mode::kStrict : Mode::kNonStrict;
    std::string outcome;
    Result<Expression> expr = Expression::Compile(c.expression, options);
    Result<Collection> result = expr.ok() ? (doc ? expr->Evaluate(doc->root(), env)
                                                 : expr->Evaluate(Collection{}, nullptr, env))
                                          : Result<Collection>(expr.status());
    bool ok;
    if (!c.invalid.empty()) {
      ok = !result.ok();
      if (!ok) outcome = "expected an error, got " + CollectionToJson(*result);
    } else if (!result.ok()) {
      ok = false;
      outcome = "error: " + result.status().message();
    } else {
      Collection got = *result;
      if (c.predicate) got = Collection{Item::Boolean(!got.empty())};
      ok = got.size() == c.outputs.size();
      for (size_t i = 0; ok && i < got.size(); ++i) ok = Matches(got[i], c.outputs[i]);
      if (!ok) {
        std::string want = "[";
        for (const Output& o : c.outputs) want += (want.size() > 1 ? "," : "") + o.text;
        outcome = "expected " + want + "], got " + CollectionToJson(got);
      }
    }
    if (ok) {
      ++passed;
    } else {
      ++failed;
      failures.push_back(c.group + "/" + c.name + ": `" + c.expression + "` — " + outcome);
    }
  }
  std::cout << "FHIRPath R4 suite: " << passed << " passed, " << failed << " failed, " << skipped
            << " skipped\n";
  for (const std::string& f : failures) std::cout << "  " << f << "\n";
  EXPECT_GE(passed, kMinimumPassing) << "FHIRPath conformance dropped below the recorded level";
}

}  // namespace
}  // namespace vesta::fhirpath
