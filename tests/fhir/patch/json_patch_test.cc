#include "fhir/patch/json_patch.h"

#include <gtest/gtest.h>

#include <iostream>

#include "fhir/patch/patch_test_data.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::patch {
namespace {

json::Document MustParse(std::string_view text) {
  Result<json::Document> d = json::Parse(text);
  EXPECT_TRUE(d.ok()) << d.status().ToString() << "\n" << text;
  return d.ok() ? std::move(d).value() : json::Document();
}

// Applies `patch` to `doc`; returns the compact result or "ERROR: message".
std::string Apply(std::string_view doc_text, std::string_view patch_text) {
  json::Document doc = MustParse(doc_text);
  json::Document patch = MustParse(patch_text);
  std::string before = json::ToString(doc.root());
  Result<json::Value> out = ApplyJsonPatch(doc.arena(), doc.root(), patch.root());
  EXPECT_EQ(json::ToString(doc.root()), before) << "the input was modified";
  if (!out.ok()) return "ERROR: " + out.status().message();
  return json::ToString(*out);
}

TEST(JsonPointer, ParsesAndUnescapes) {
  Result<std::vector<std::string>> t = ParseJsonPointer("/a~1b/m~0n/~01/");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, (std::vector<std::string>{"a/b", "m~n", "~1", ""}));
  EXPECT_TRUE(ParseJsonPointer("")->empty());
  EXPECT_FALSE(ParseJsonPointer("a").ok());
  EXPECT_FALSE(ParseJsonPointer("/a~2").ok());
  EXPECT_FALSE(ParseJsonPointer("/a~").ok());
}

TEST(JsonPointer, Resolves) {
  json::Document d = MustParse(R"({"a":{"b":[1,{"c":true}]},"":5})");
  EXPECT_EQ(json::ToString(**ResolveJsonPointer(d.root(), "/a/b/1/c")), "true");
  EXPECT_EQ(json::ToString(**ResolveJsonPointer(d.root(), "/")), "5");
  EXPECT_FALSE(ResolveJsonPointer(d.root(), "/a/b/2").ok());
  EXPECT_FALSE(ResolveJsonPointer(d.root(), "/a/b/01").ok());
  EXPECT_FALSE(ResolveJsonPointer(d.root(), "/a/b/-").ok());
  EXPECT_FALSE(ResolveJsonPointer(d.root(), "/a/x").ok());
}

TEST(JsonPatch, Operations) {
  EXPECT_EQ(Apply(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/-","value":3}])"),
            R"({"a":[1,2,3]})");
  EXPECT_EQ(Apply(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/0","value":0}])"),
            R"({"a":[0,1,2]})");
  EXPECT_EQ(Apply(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/2","value":3}])"),
            R"({"a":[1,2,3]})");
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])"), "[1]");
  EXPECT_EQ(Apply(R"({"a":1,"b":2})", R"([{"op":"remove","path":"/a"}])"), R"({"b":2})");
  EXPECT_EQ(Apply(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])"),
            R"({"a":{"b":1},"c":{"b":1}})");
  EXPECT_EQ(Apply(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a/b","path":"/c"}])"),
            R"({"a":{},"c":1})");
  EXPECT_EQ(Apply(R"({"a/b":1,"m~n":2})",
                  R"([{"op":"replace","path":"/a~1b","value":3},{"op":"remove","path":"/m~0n"}])"),
            R"({"a/b":3})");
  EXPECT_EQ(Apply(R"({"n":1.0})", R"([{"op":"test","path":"/n","value":1}])"), R"({"n":1.0})");
  EXPECT_EQ(Apply(R"({"a":1})", R"([])"), R"({"a":1})");
}

TEST(JsonPatch, ErrorsNameTheOperation) {
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"test","path":"/a","value":1},
                                    {"op":"remove","path":"/b"}])"),
            "ERROR: operation 1 (remove): /b does not exist");
  EXPECT_EQ(Apply(R"({"a":[1]})", R"([{"op":"replace","path":"/a/5","value":1}])"),
            "ERROR: operation 0 (replace): index 5 is out of bounds (the array has 1 items)");
  EXPECT_EQ(Apply(R"({"a":{}})", R"([{"op":"move","from":"/a","path":"/a/b"}])"),
            "ERROR: operation 0 (move): cannot move /a into its own child /a/b");
  EXPECT_EQ(Apply(R"({})", R"([{"op":"remove","path":""}])"),
            "ERROR: operation 0 (remove): the whole document cannot be removed");
  EXPECT_EQ(Apply(R"({})", R"([{"op":"frob","path":"/a"}])"),
            "ERROR: operation 0 (frob): unknown op 'frob' (expected add, remove, replace, move, "
            "copy or test)");
  EXPECT_EQ(Apply(R"({})", R"([{"op":"add","path":"/a"}])"),
            "ERROR: operation 0 (add): 'add' needs a 'value'");
  EXPECT_EQ(Apply(R"({})", R"([{"op":"copy","path":"/a"}])"),
            "ERROR: operation 0 (copy): 'copy' needs 'from' (a JSON Pointer string)");
  EXPECT_EQ(Apply(R"({})", R"([{"path":"/a"}])"),
            "ERROR: operation 0: 'op' is missing or not a string");
  EXPECT_EQ(Apply(R"({})", R"([5])"), "ERROR: operation 0: an operation must be a JSON object");
  EXPECT_EQ(Apply(R"({})", R"({"op":"add"})"),
            "ERROR: a JSON Patch document must be a JSON array of operations");
  EXPECT_EQ(Apply(R"({"a":1})", R"([{"op":"add","path":"/a/b","value":1}])"),
            "ERROR: operation 0 (add): /a is not an object or array");
}

TEST(JsonPatch, CopiesCannotExplodeTheDocument) {
  // Each copy doubles the serialized size while sharing the subtree: 40 of them would be 2^40.
  std::string patch = "[";
  for (int i = 0; i < 40; ++i) {
    if (i > 0) patch += ',';
    patch += R"({"op":"copy","from":"/a","path":"/a/)" + std::to_string(i) + R"("})";
  }
  patch += "]";
  EXPECT_EQ(Apply(R"({"a":{"x":[1,2,3]}})", patch),
            "ERROR: the copy operations make the document too large or too deeply nested");
  EXPECT_EQ(Apply(R"({"a":{"x":1}})", R"([{"op":"copy","from":"/a","path":"/a/y"}])"),
            R"({"a":{"x":1,"y":{"x":1}}})");
}

TEST(JsonPatch, ErrorCodes) {
  json::Document doc = MustParse(R"({"a":1})");
  json::Document bad = MustParse(R"([{"op":"nope","path":"/a"}])");
  json::Document fails = MustParse(R"([{"op":"test","path":"/a","value":2}])");
  EXPECT_EQ(ApplyJsonPatch(doc.arena(), doc.root(), bad.root()).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(ApplyJsonPatch(doc.arena(), doc.root(), fails.root()).status().code(),
            StatusCode::kUnprocessable);
}

// The official cases (RFC 6902 appendix A and friends) from fhir-test-cases.
// Achieved: all 16. The test fails when fewer pass.
constexpr int kMinJsonPatchPassed = 16;

TEST(JsonPatch, OfficialCases) {
  std::string file = testing::PatchCaseFile("json-patch-tests.json");
  if (file.empty()) GTEST_SKIP() << "json-patch-tests.json not found under $VESTA_SHARED_DATA";
  json::Document cases = MustParse(testing::ReadWholeFile(file));
  ASSERT_TRUE(cases.root().is_array());
  int passed = 0;
  int failed = 0;
  std::string failures;
  for (const json::Value& c : cases.root().items()) {
    std::string name(c.FindString("comment"));
    const json::Value* doc = c.Find("doc");
    const json::Value* patch = c.Find("patch");
    const json::Value* expected = c.Find("expected");
    if (doc == nullptr || patch == nullptr) {
      ++failed;
      failures += "  " + name + ": malformed case\n";
      continue;
    }
    json::Arena arena;
    Result<json::Value> out = ApplyJsonPatch(arena, *doc, *patch);
    bool ok;
    std::string why;
    if (expected != nullptr) {
      ok = out.ok() && json::Equal(*out, *expected);
      why = out.ok() ? "got " + json::ToString(*out) : out.status().message();
    } else {
      ok = !out.ok();
      why = "expected an error (" + std::string(c.FindString("error")) + "), got success";
    }
    if (ok) {
      ++passed;
    } else {
      ++failed;
      failures += "  " + name + ": " + why + "\n";
    }
  }
  std::cout << "JSON Patch: " << passed << " passed, " << failed << " failed\n" << failures;
  EXPECT_GE(passed, kMinJsonPatchPassed) << failures;
}

}  // namespace
}  // namespace vesta::patch
