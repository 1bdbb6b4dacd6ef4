// fhirpath.js's own test cases (HL7's JavaScript FHIRPath engine, test/cases/*.yaml, in the shared
// data folder at fhirpath/fhirpath.js/cases; ../shared/data/README.md): each file's cases run
// and the pass counts are printed per file. Every case that Vesta answers differently is listed
// and explained in docs/conformance.md ("fhirpath.js's cases"); the test fails when a file passes
// fewer cases than recorded in kMinimumPassing.
//
// How a case is read (fhirpath.js's test/fhirpath.test.js): the subject is `inputfile` (from
// resources/r4/) or else the file's `subject`; `expression` may list several expressions with one
// result; `error: true` wants an error; `disable: true` cases are skipped, as fhirpath.js skips
// them. Vesta always evaluates with the R4 model where the resource's type is an R4 type (a case
// without `model: r4` is one fhirpath.js evaluates without types), non-strict.
#include <gtest/gtest.h>
#include <yaml.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::fhirpath {
namespace {

// The lowest pass count per file, as measured when this runner was written.
const std::map<std::string, int> kMinimumPassing = {
#include "fhir/fhirpath/fhirpathjs_minimums.inc"
};

std::string DataDir() {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  if (env != nullptr && *env) return env;
  return std::string(VESTA_SOURCE_DIR) + "/../shared/data";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// --- YAML to JSON text (libyaml's document API), scalars typed by the YAML 1.2 core schema as
// js-yaml reads them: plain null/true/false/numbers, everything else a string.

void ScalarToJson(const yaml_node_t* n, std::string* out) {
  const std::string v(reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length);
  if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
    static const std::regex kInt("[-+]?[0-9]+");
    static const std::regex kFloat("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?");
    if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") {
      *out += "null";
      return;
    }
    if (v == "true" || v == "True" || v == "TRUE") {
      *out += "true";
      return;
    }
    if (v == "false" || v == "False" || v == "FALSE") {
      *out += "false";
      return;
    }
    if (std::regex_match(v, kInt) || std::regex_match(v, kFloat)) {
      std::string num = v[0] == '+' ? v.substr(1) : v;
      if (num[0] == '.') num = "0" + num;
      if (num.size() > 1 && num[0] == '-' && num[1] == '.') num = "-0" + num.substr(1);
      if (num.back() == '.') num += "0";
      const bool leading_zero = num.size() > 1 && num[0] == '0' && std::isdigit(num[1]);
      if (!leading_zero) {
        *out += num;
        return;
      }
    }
  }
  json::WriteString(v, out);
}

void NodeToJson(yaml_document_t* doc, const yaml_node_t* n, std::string* out) {
  switch (n->type) {
    case YAML_SCALAR_NODE:
      ScalarToJson(n, out);
      return;
    case YAML_SEQUENCE_NODE: {
      *out += '[';
      bool first = true;
      for (yaml_node_item_t* i = n->data.sequence.items.start; i < n->data.sequence.items.top;
           ++i) {
        if (!first) *out += ',';
        first = false;
        NodeToJson(doc, yaml_document_get_node(doc, *i), out);
      }
      *out += ']';
      return;
    }
    case YAML_MAPPING_NODE: {
      *out += '{';
      bool first = true;
      for (yaml_node_pair_t* p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; ++p) {
        if (!first) *out += ',';
        first = false;
        const yaml_node_t* k = yaml_document_get_node(doc, p->key);
        std::string key = k->type == YAML_SCALAR_NODE
                              ? std::string(reinterpret_cast<const char*>(k->data.scalar.value),
                                            k->data.scalar.length)
                              : "?";
        json::WriteString(key, out);
        *out += ':';
        NodeToJson(doc, yaml_document_get_node(doc, p->value), out);
      }
      *out += '}';
      return;
    }
    default:
      *out += "null";
  }
}

bool YamlToJson(const std::string& text, std::string* out) {
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) return false;
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  bool ok = yaml_parser_load(&parser, &doc) != 0;
  if (ok) {
    const yaml_node_t* root = yaml_document_get_root_node(&doc);
    ok = root != nullptr;
    if (ok) NodeToJson(&doc, root, out);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  return ok;
}

// --- Comparing a result with the expected YAML values.

// The JSON text of one item, as the expected values write it: System values as JSON scalars
// (Long as a number), nodes as their JSON.
std::string ItemJson(const Item& i) {
  std::string s = CollectionToJson(Collection{i});
  return s.substr(1, s.size() - 2);
}

std::string Unmark(std::string s) {  // "@2014-01-01T" and "2014-01-01" compare equal
  if (!s.empty() && s[0] == '@') s = s.substr(1);
  if (s.size() > 1 && s[0] == 'T' && std::isdigit(static_cast<unsigned char>(s[1]))) {
    s = s.substr(1);
  }
  if (!s.empty() && s.back() == 'T') s.pop_back();
  return s;
}

bool Matches(const Item& actual, const json::Value& expected) {
  Item v;
  const bool system = ToSystem(actual, &v);
  if (expected.is_number()) {
    Decimal want;
    if (!system || !Decimal::Parse(expected.number_text(), &want)) return false;
    if (v.kind == ItemKind::kInteger || v.kind == ItemKind::kLong) {
      return Compare(Decimal::FromInt(v.as_int()), want) == 0;
    }
    if (v.kind == ItemKind::kDecimal) return Compare(v.as_decimal(), want) == 0;
    return false;
  }
  if (expected.is_bool()) {
    return system && v.kind == ItemKind::kBoolean && v.as_bool() == expected.bool_value();
  }
  if (expected.is_string()) {
    const std::string want(expected.string_value());
    if (!system) return false;
    switch (v.kind) {
      case ItemKind::kString:
        return v.as_string() == want;
      case ItemKind::kDate:
      case ItemKind::kDateTime:
      case ItemKind::kTime:
        return Unmark(v.as_temporal().ToString()) == Unmark(want);
      case ItemKind::kQuantity: {
        const Quantity& q = v.as_quantity();
        return want == q.value.ToString() + " '" + q.unit + "'" ||
               want == q.value.ToString() + " " + q.unit;
      }
      case ItemKind::kInteger:
      case ItemKind::kLong:
        return std::to_string(v.as_int()) == want;  // fhirpath.js writes Longs as strings
      case ItemKind::kDecimal:
        return v.as_decimal().ToString() == want;
      default:
        return false;
    }
  }
  if (expected.is_null()) return false;
  // An object or array: the node's JSON, or a Quantity {value, unit}.
  Result<json::Document> a = json::Parse(ItemJson(actual));
  return a.ok() && json::Equal(a->root(), expected);
}

struct FileResult {
  int passed = 0, failed = 0, skipped = 0;
  std::vector<std::string> failures;
};

class Runner {
 public:
  Runner(std::string inputs, const json::Value* subject) : inputs_(std::move(inputs)) {
    subject_ = subject;
  }

  void Cases(const json::Value& list, const std::string& group, FileResult* r) {
    if (!list.is_array()) return;
    for (const json::Value& t : list.items()) {
      if (!t.is_object()) continue;
      if (t.size() == 1 && t.members()[0].key.rfind("group:", 0) == 0) {
        Cases(t.members()[0].value, std::string(t.members()[0].key.substr(7)), r);
        continue;
      }
      const json::Value* expr = t.Find("expression");
      if (expr == nullptr) continue;
      std::vector<std::string> exprs;
      if (expr->is_array()) {
        for (const json::Value& e : expr->items()) exprs.emplace_back(e.string_value());
      } else {
        exprs.emplace_back(expr->is_string() ? std::string(expr->string_value()) : "");
      }
      for (const std::string& e : exprs) One(t, e, group, r);
    }
  }

 private:
  const json::Value* Subject(const json::Value& t) {
    std::string file(t.FindString("inputfile"));
    if (file.empty()) return subject_;
    auto it = inputs_cache_.find(file);
    if (it == inputs_cache_.end()) {
      std::string text;
      std::unique_ptr<json::Document> doc;
      if (ReadFile(inputs_ + file, &text)) {
        Result<json::Document> d = json::Parse(text);
        if (d.ok()) doc = std::make_unique<json::Document>(std::move(d).value());
      }
      it = inputs_cache_.emplace(file, std::move(doc)).first;
    }
    return it->second ? &it->second->root() : nullptr;
  }

  void One(const json::Value& t, const std::string& expr, const std::string& group, FileResult* r) {
    const json::Value* disable = t.Find("disable");
    if (disable != nullptr && disable->is_bool() && disable->bool_value()) {
      ++r->skipped;
      return;
    }
    const std::string name =
        (group.empty() ? "" : group + " / ") + std::string(t.FindString("desc")) + ": " + expr;
    const json::Value* subject = Subject(t);
    static const json::Document kEmpty = json::Parse("{}").value();
    if (subject == nullptr) subject = &kEmpty.root();
    const json::Value* err = t.Find("error");
    const bool want_error = err != nullptr && err->is_bool() && err->bool_value();
    CompileOptions options;
    options.context_type = std::string(subject->FindString("resourceType"));
    options.mode = Mode::kNonStrict;
    Environment env;
    std::vector<std::unique_ptr<json::Document>> keep;
    if (const json::Value* vars = t.Find("variables"); vars != nullptr && vars->is_object()) {
      for (const json::Member& m : vars->members()) {
        Collection c;
        auto add = [&](const json::Value& v) {
          if (v.is_null()) return;
          if (v.is_string()) {
            c.push_back(Item::String(std::string(v.string_value())));
          } else if (v.is_bool()) {
            c.push_back(Item::Boolean(v.bool_value()));
          } else if (v.is_number()) {
            Decimal d;
            Decimal::Parse(v.number_text(), &d);
            c.push_back(d.scale == 0 && v.number_text().find_first_of(".eE") == std::string::npos
                            ? Item::Integer(static_cast<int64_t>(d.mantissa))
                            : Item::Dec(d));
          } else {
            c.push_back(ResourceItem(v));
          }
        };
        if (m.value.is_array()) {
          for (const json::Value& v : m.value.items()) add(v);
        } else {
          add(m.value);
        }
        env.variables[std::string(m.key)] = std::move(c);
      }
    }
    Result<Expression> e = Expression::Compile(expr, options);
    Result<Collection> got = e.ok() ? e->Evaluate(*subject, env) : Result<Collection>(e.status());
    bool pass;
    std::string actual = got.ok() ? CollectionToJson(*got) : "error: " + got.status().message();
    if (want_error) {
      pass = !got.ok();
    } else if (!got.ok()) {
      pass = false;
    } else {
      const json::Value* result = t.Find("result");
      std::vector<const json::Value*> want;
      if (result != nullptr && result->is_array()) {
        for (const json::Value& v : result->items()) want.push_back(&v);
      } else if (result != nullptr && !result->is_null()) {
        want.push_back(result);
      }
      pass = want.size() == got->size();
      for (size_t i = 0; pass && i < want.size(); ++i) pass = Matches((*got)[i], *want[i]);
    }
    if (pass) {
      ++r->passed;
      return;
    }
    ++r->failed;
    const json::Value* result = t.Find("result");
    r->failures.push_back(name + "\n      expected " +
                          (want_error ? std::string("an error")
                           : result   ? json::ToString(*result)
                                      : std::string("[]")) +
                          ", got " + actual);
  }

  std::string inputs_;
  const json::Value* subject_ = nullptr;
  std::map<std::string, std::unique_ptr<json::Document>> inputs_cache_;
};

TEST(FhirPathJsCases, PerFile) {
  const std::string dir = DataDir() + "/fhirpath/fhirpath.js/";
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir + "cases", ec)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().filename().string());
  }
  if (files.empty()) {
    GTEST_SKIP() << "fhirpath.js cases not found under VESTA_SHARED_DATA (" << dir << "cases)";
  }
  std::sort(files.begin(), files.end());
  int total_pass = 0, total_fail = 0, total_skip = 0;
  for (const std::string& f : files) {
    std::string yaml, text;
    ASSERT_TRUE(ReadFile(dir + "cases/" + f, &yaml));
    ASSERT_TRUE(YamlToJson(yaml, &text)) << f << ": not YAML";
    Result<json::Document> doc = json::Parse(text);
    ASSERT_TRUE(doc.ok()) << f << ": " << doc.status().message();
    Runner runner(dir + "resources/r4/", doc->root().Find("subject"));
    FileResult r;
    if (const json::Value* tests = doc->root().Find("tests")) runner.Cases(*tests, "", &r);
    std::printf("%-34s %4d passed, %3d failed, %3d skipped\n", f.c_str(), r.passed, r.failed,
                r.skipped);
    for (const std::string& failure : r.failures) std::printf("    %s\n", failure.c_str());
    total_pass += r.passed;
    total_fail += r.failed;
    total_skip += r.skipped;
    auto it = kMinimumPassing.find(f);
    EXPECT_GE(r.passed, it == kMinimumPassing.end() ? 0 : it->second)
        << f << ": fewer fhirpath.js cases pass than recorded";
  }
  std::printf("fhirpath.js cases: %d passed, %d failed, %d skipped\n", total_pass, total_fail,
              total_skip);
}

}  // namespace
}  // namespace vesta::fhirpath
