#include <gtest/gtest.h>

#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

namespace vesta::json {
namespace {

TEST(JsonTest, ParsesAndKeepsNumbersExactly) {
  auto doc = Parse(R"({"a": 1.50, "b": [1e3, -0, 0.000100], "c": "x\"y", "d": true, "e": null})");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(ToString(doc->root()), R"({"a":1.50,"b":[1e3,-0,0.000100],"c":"x\"y","d":true,"e":null})");
  EXPECT_EQ(doc->root().Find("a")->number_text(), "1.50");
  EXPECT_EQ(doc->root().FindString("c"), "x\"y");
  EXPECT_EQ(doc->root().Find("zz"), nullptr);
}

TEST(JsonTest, KeepsMemberOrder) {
  auto doc = Parse(R"({"z":1,"a":2,"m":3})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(ToString(doc->root()), R"({"z":1,"a":2,"m":3})");
}

TEST(JsonTest, UnescapesAndReescapes) {
  auto doc = Parse(R"(["\u00e9\n\t\u0001", "日本"])");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->root().items()[0].string_value(), "\xC3\xA9\n\t\x01");
  EXPECT_EQ(ToString(doc->root()), "[\"\xC3\xA9\\n\\t\\u0001\",\"日本\"]");
}

TEST(JsonTest, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "{\"a\":01}", "{\"a\":1.}",
                          "{\"a\":tru}", "{'a':1}", "{\"a\":1,\"a\":2}", "\"\xff\"",
                          "{\"a\":\"\xC3\"}", "[nul]"}) {
    auto doc = Parse(bad);
    EXPECT_FALSE(doc.ok()) << "accepted: " << bad;
    if (!doc.ok()) {
      EXPECT_EQ(doc.status().code(), StatusCode::kInvalid);
    }
  }
}

TEST(JsonTest, RejectsDeepNesting) {
  std::string deep(kMaxDepth + 10, '[');
  deep += std::string(kMaxDepth + 10, ']');
  EXPECT_FALSE(Parse(deep).ok());
  std::string ok(50, '[');
  ok += std::string(50, ']');
  EXPECT_TRUE(Parse(ok).ok());
}

TEST(JsonTest, ScalarDocuments) {
  EXPECT_EQ(Parse("12.0")->root().number_text(), "12.0");
  EXPECT_EQ(Parse("\"s\"")->root().string_value(), "s");
  EXPECT_TRUE(Parse("true")->root().bool_value());
  EXPECT_TRUE(Parse("null")->root().is_null());
}

TEST(JsonTest, EqualityIgnoresMemberOrderButNotNumberText) {
  auto a = Parse(R"({"x":[1,{"p":1.5,"q":2}],"y":"s"})");
  auto b = Parse(R"({"y":"s","x":[1,{"q":2,"p":1.5}]})");
  auto c = Parse(R"({"y":"s","x":[1,{"q":2,"p":1.50}]})");
  auto d = Parse(R"({"y":"s","x":[{"q":2,"p":1.5},1]})");
  EXPECT_TRUE(Equal(a->root(), b->root()));
  EXPECT_FALSE(Equal(a->root(), c->root()));
  EXPECT_FALSE(Equal(a->root(), d->root()));
}

TEST(JsonTest, WithMemberReplacesOrAppends) {
  auto doc = Parse(R"({"resourceType":"Patient","id":"old","active":true})");
  Arena& arena = doc->arena();
  Value v = WithMember(arena, doc->root(), "id", Value::String(arena, "new"));
  v = WithMember(arena, v, "meta", Value::Object(arena, {}));
  EXPECT_EQ(ToString(v), R"({"resourceType":"Patient","id":"new","active":true,"meta":{}})");
  EXPECT_EQ(ToString(WithoutMember(arena, v, "active")),
            R"({"resourceType":"Patient","id":"new","meta":{}})");
}

TEST(JsonTest, PrettyPrints) {
  auto doc = Parse(R"({"a":[1,2],"b":{}})");
  EXPECT_EQ(ToString(doc->root(), Style::kPretty), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
}

}  // namespace
}  // namespace vesta::json
