// _text and _content (https://hl7.org/fhir/R4/search.html#text): the text a resource gives the
// full-text index, and the FTS5 expressions built from search values (no user text is ever read
// as FTS5 syntax).
#include "search/text.h"

#include <gtest/gtest.h>

#include <string>

#include "json/parse.h"
#include "store/sqlite/search_sql.h"

namespace vesta::search {
namespace {

// The SQLite store renders parsed text queries as FTS5 MATCH expressions.
using store::sql::TextMatchExpression;

TEST(NarrativeTextTest, StripsTagsAndKeepsWordsApart) {
  EXPECT_EQ(NarrativeText(R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>Heart <b>fail</b>ure</p>)"
                          R"(<p>second</p><table><tr><td>a</td><td>b</td></tr></table></div>)"),
            "Heart failure second a b");
  EXPECT_EQ(NarrativeText("<div>line1<br/>line2</div>"), "line1 line2");
  EXPECT_EQ(NarrativeText("<div>\n\t  spaced \n  out  </div>"), "spaced out");
  EXPECT_EQ(NarrativeText(""), "");
  EXPECT_EQ(NarrativeText("plain text"), "plain text");
}

TEST(NarrativeTextTest, DropsAttributesCommentsScriptAndStyle) {
  EXPECT_EQ(NarrativeText(R"(<div><a href="http://x.org/secret" title="hidden">link</a></div>)"),
            "link");
  EXPECT_EQ(NarrativeText(R"(<div><img alt="a>b" src="x"/>after</div>)"), "after");
  EXPECT_EQ(NarrativeText("<div>a<!-- not shown -->b</div>"), "ab");
  EXPECT_EQ(NarrativeText("<div><script type='text/javascript'>var secret = '<p>';</script>"
                          "<STYLE>p { color: red }</STYLE>visible</div>"),
            "visible");
  EXPECT_EQ(NarrativeText("<div><![CDATA[x < y]]></div>"), "x < y");
  EXPECT_EQ(NarrativeText("<?xml version='1.0'?><!DOCTYPE div><xhtml:div>ns</xhtml:div>"), "ns");
  // Sloppy markup is read leniently: a '<' that starts no tag is text; an unclosed tag ends it.
  EXPECT_EQ(NarrativeText("<div>x < y</div>"), "x < y");
  EXPECT_EQ(NarrativeText("<div>before<p class=\"unclosed"), "before");
}

TEST(NarrativeTextTest, DecodesCharacterReferences) {
  EXPECT_EQ(NarrativeText("<p>&lt;5 mg&gt; caf&eacute; &amp; &#233;t&#xE9; (&quot;Jim&quot;)</p>"),
            "<5 mg> café & été (\"Jim\")");
  EXPECT_EQ(NarrativeText("<p>&beta;-blocker 37&deg;C &ndash; &Uuml;ber</p>"),
            "β-blocker 37°C – Über");
  EXPECT_EQ(NarrativeText("<p>a&nbsp;b</p>"), "a\u00A0b");
  // Unknown or broken references stay as written; a zero or surrogate code point is U+FFFD.
  EXPECT_EQ(NarrativeText("<p>&unknown; a&b &#xZZ; &#0;</p>"), "&unknown; a&b &#xZZ; \uFFFD");
}

TEST(ExtractTextTest, NarrativeAndTheOtherTextValues) {
  auto doc = json::Parse(R"({
    "resourceType": "Observation", "id": "obs-id-not-text",
    "meta": {"versionId": "7", "tag": [{"system": "http://tags", "code": "needs-review"}]},
    "text": {"status": "generated",
             "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Weight <b>185</b> lbs</div>"},
    "contained": [{"resourceType": "Practitioner", "id": "pr",
                   "name": [{"family": "Ärztin", "given": ["Zoë"]}]}],
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7",
                         "display": "Body weight"}],
             "text": "Body weight"},
    "subject": {"reference": "Patient/pat-ref-not-text", "display": "Peter Chalmers"},
    "effectiveDateTime": "2016-03-28",
    "valueQuantity": {"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org",
                      "code": "[lb_av]"},
    "note": [{"text": "Patient *weighed* after lunch", "_text": {"extension": []}}],
    "component": [{"code": {"text": "Body weight"}, "valueString": "heavier than last visit"}],
    "unknownElement": "ignored"
  })");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  TextRow row = ExtractText(doc->root());
  EXPECT_EQ(row.narrative, "Weight 185 lbs");
  // In document order, each distinct value once; ids, references, uris, dates and numbers left
  // out.
  EXPECT_EQ(row.content,
            "needs-review\nÄrztin\nZoë\nfinal\n29463-7\nBody weight\nPeter Chalmers\nlbs\n"
            "[lb_av]\nPatient *weighed* after lunch\nheavier than last visit");
}

TEST(ExtractTextTest, ResourcesWithoutTextGiveAnEmptyRow) {
  auto doc = json::Parse(R"({"resourceType": "Basic", "id": "b"})");
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(ExtractText(doc->root()).empty());
  auto unknown = json::Parse(R"({"resourceType": "NotAType", "name": "x"})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(ExtractText(unknown->root()).empty());
}

TEST(ExtractTextTest, ServerExtensionsAreLeftOut) {
  // The HL7 v2 feed's record: the raw message and the ACK are bookkeeping, not text; the other
  // extensions and the record's own elements are indexed as usual.
  auto doc = json::Parse(R"({"resourceType": "Basic", "extension": [
      {"url": "urn:vesta:hl7v2:raw", "valueString": "MSH|^~\\&|SENDER"},
      {"url": "urn:vesta:hl7v2:ack", "extension": [{"url": "message", "valueString": "MSA|AA"}]},
      {"url": "http://example.org/note", "valueString": "kept"}],
    "code": {"text": "HL7 v2 ADT^A01"}})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(ExtractText(doc->root()).content, "kept\nHL7 v2 ADT^A01");
}

TEST(ExtractTextTest, ColumnsAreBounded) {
  std::string big(kMaxTextColumnBytes + 100, 'x');
  big[kMaxTextColumnBytes - 1] = '\xC3';  // a two-byte character across the limit
  big[kMaxTextColumnBytes] = '\xA9';
  auto doc = json::Parse(R"({"resourceType":"Basic","code":{"text":")" + big +
                         R"("},"text":{"status":"generated","div":"<div>)" + big + R"(</div>"}})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  TextRow row = ExtractText(doc->root());
  EXPECT_EQ(row.content.size(), kMaxTextColumnBytes - 1);
  EXPECT_EQ(row.narrative.size(), kMaxTextColumnBytes - 1);
}

std::string Match(std::string_view value, TextScope scope = TextScope::kContent) {
  Result<std::string> r = TextMatchExpression(value, scope);
  return r.ok() ? *r : "error: " + r.status().message();
}

TEST(TextMatchExpressionTest, WordsPhrasesOrAndPrefixes) {
  EXPECT_EQ(Match("heart"), R"("heart")");
  EXPECT_EQ(Match("heart", TextScope::kNarrative), R"(narrative : ("heart"))");
  EXPECT_EQ(Match("heart failure"), R"("heart" AND "failure")");
  EXPECT_EQ(Match("heart AND failure"), R"("heart" AND "failure")");
  EXPECT_EQ(Match(R"("heart failure")"), R"("heart failure")");
  EXPECT_EQ(Match("asthma OR copd"), R"(("asthma" OR "copd"))");
  EXPECT_EQ(Match(R"(chronic asthma OR "heart failure" acute)"),
            R"("chronic" AND ("asthma" OR "heart failure") AND "acute")");
  EXPECT_EQ(Match("diab*"), R"("diab"*)");
  EXPECT_EQ(Match(R"("heart fail"*)"), R"("heart fail"*)");
  EXPECT_EQ(Match("café", TextScope::kNarrative), R"(narrative : ("café"))");
  // Lower-case or/and are words, as in the text.
  EXPECT_EQ(Match("this or that"), R"("this" AND "or" AND "that")");
}

TEST(TextMatchExpressionTest, Fts5SyntaxInUserTextIsNeutralised) {
  // Column filters, NEAR groups, parentheses, ^, +, -, NOT: all inside quoted strings, where the
  // tokenizer reads them as separators, never as syntax.
  EXPECT_EQ(Match("narrative:secret"), R"("narrative:secret")");
  EXPECT_EQ(Match("{narrative content}:x", TextScope::kNarrative),
            R"(narrative : ("{narrative" AND "content}:x"))");
  EXPECT_EQ(Match("NEAR(a b, 2)"), R"x("NEAR(a" AND "b," AND "2)")x");
  EXPECT_EQ(Match("(a OR b)"), R"x(("(a" OR "b)"))x");
  EXPECT_EQ(Match("^start + -minus NOT x"), R"("^start" AND "-minus" AND "NOT" AND "x")");
  EXPECT_EQ(Match("a*b"), R"("a*b")");
  // Quotes delimit phrases: a quote inside a word starts one; a quote can never end up inside an
  // FTS5 string unescaped.
  EXPECT_EQ(Match(R"(a"b"c)"), R"("a" AND "b" AND "c")");
  // Terms without a letter or digit are dropped (they would be empty phrases); control
  // characters become spaces.
  EXPECT_EQ(Match("heart ( ) : * + -"), R"("heart")");
  EXPECT_EQ(Match("heart OR ()"), R"("heart")");
  EXPECT_EQ(Match(std::string("a\x01"
                              "b")),
            "\"a b\"");
  EXPECT_EQ(Match("x — y"), R"("x" AND "y")");
}

TEST(TextMatchExpressionTest, MalformedValuesAreErrors) {
  for (const char* bad : {"", "   ", "()", "*", "\"\"", "OR", "AND", "a OR", "OR a", "a OR OR b",
                          "a AND OR b", "a AND", "\"unclosed", "x \"open phrase", "a*", "\"b\"*"}) {
    Result<std::string> r = TextMatchExpression(bad, TextScope::kContent);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' gave " << (r.ok() ? *r : "");
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << bad;
    }
  }
  std::string many;
  for (int i = 0; i <= kMaxTextTerms; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_FALSE(TextMatchExpression(many, TextScope::kContent).ok());
  EXPECT_FALSE(
      TextMatchExpression(std::string(kMaxTextQueryBytes + 1, 'a'), TextScope::kContent).ok());
  EXPECT_TRUE(TextMatchExpression(std::string(kMaxTextQueryBytes, 'a'), TextScope::kContent).ok());
}

}  // namespace
}  // namespace vesta::search
