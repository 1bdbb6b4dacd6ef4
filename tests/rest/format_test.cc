#include "rest/format.h"

#include <gtest/gtest.h>

#include "rest/outcome.h"

namespace vesta::rest {
namespace {

Request WithAccept(std::string accept, QueryList query = {}) {
  Request r;
  r.method = "GET";
  if (!accept.empty()) r.headers.emplace_back("Accept", std::move(accept));
  r.query = std::move(query);
  return r;
}

TEST(FormatTest, NegotiatesJsonOnly) {
  EXPECT_EQ(NegotiateFormat(WithAccept(""))->media, MediaType::kFhirJson);
  EXPECT_EQ(NegotiateFormat(WithAccept("application/fhir+json"))->media, MediaType::kFhirJson);
  EXPECT_EQ(NegotiateFormat(WithAccept("application/json"))->media, MediaType::kJson);
  EXPECT_EQ(NegotiateFormat(WithAccept("*/*"))->media, MediaType::kFhirJson);
  EXPECT_EQ(NegotiateFormat(WithAccept("text/html,application/xhtml+xml,*/*;q=0.8"))->media,
            MediaType::kFhirJson);
  EXPECT_EQ(NegotiateFormat(WithAccept("application/fhir+xml")).status().code(),
            StatusCode::kNotAcceptable);
  EXPECT_EQ(NegotiateFormat(WithAccept("application/fhir+json;q=0")).status().code(),
            StatusCode::kNotAcceptable);
  // _format wins over Accept.
  EXPECT_TRUE(NegotiateFormat(WithAccept("application/fhir+xml", {{"_format", "json"}})).ok());
  EXPECT_EQ(NegotiateFormat(WithAccept("", {{"_format", "xml"}})).status().code(),
            StatusCode::kNotAcceptable);
  EXPECT_TRUE(NegotiateFormat(WithAccept("", {{"_pretty", "true"}}))->pretty);
  EXPECT_FALSE(NegotiateFormat(WithAccept("", {{"_pretty", "maybe"}})).ok());
}

TEST(FormatTest, BodyContentType) {
  Request r;
  EXPECT_TRUE(CheckBodyContentType(r).ok());
  r.headers = {{"content-type", "application/fhir+json; charset=utf-8"}};
  EXPECT_TRUE(CheckBodyContentType(r).ok());
  r.headers = {{"Content-Type", "application/fhir+xml"}};
  EXPECT_EQ(CheckBodyContentType(r).code(), StatusCode::kUnsupportedMedia);
}

TEST(FormatTest, ParsesViews) {
  Request r;
  r.query = {{"_summary", "true"}, {"_elements", "name, birthDate,Patient.gender"}};
  Result<ResourceView> v = ParseView(r);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->summary, SummaryMode::kTrue);
  EXPECT_EQ(v->elements, (std::vector<std::string>{"name", "birthDate", "gender"}));
  r.query = {{"_summary", "nope"}};
  EXPECT_EQ(ParseView(r).status().code(), StatusCode::kInvalid);
}

TEST(FormatTest, RendersFullResourcesUnchanged) {
  std::string stored = R"({"resourceType":"Patient","id":"1","valueDecimal":1.50})";
  EXPECT_EQ(*RenderResource(stored, ResourceView{}, OutputFormat{}, fhir::Model::R4()), stored);
}

TEST(FormatTest, ElementsKeepsChoiceVariantsAndMandatoryElementsAndMarksSubsetted) {
  std::string stored =
      R"({"resourceType":"Observation","id":"1","status":"final","code":{"text":"x"},)"
      R"("issued":"2020-01-01T00:00:00Z","valueQuantity":{"value":1.50}})";
  ResourceView view;
  view.elements = {"value"};
  std::string out = *RenderResource(stored, view, OutputFormat{}, fhir::Model::R4());
  EXPECT_NE(out.find("\"valueQuantity\":{\"value\":1.50}"), std::string::npos) << out;
  // https://hl7.org/fhir/R4/search.html#elements: mandatory elements (status, code: 1..1) stay.
  EXPECT_NE(out.find("\"status\":\"final\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"code\":{\"text\":\"x\"}"), std::string::npos) << out;
  EXPECT_EQ(out.find("\"issued\""), std::string::npos) << out;
  EXPECT_NE(out.find("SUBSETTED"), std::string::npos);
}

TEST(OutcomeTest, MapsCodesAndIssues) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalid), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kGone), 410);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPreconditionFailed), 412);
  EXPECT_EQ(HttpStatusFor(StatusCode::kTooLarge), 413);
  Status s(StatusCode::kInvalid, "2 problems",
           {Issue{Severity::kError, "value", "bad \"date\"", "Patient.birthDate"},
            Issue{Severity::kError, "structure", "unknown", "Patient.x"}});
  EXPECT_EQ(
      OperationOutcomeJson(s),
      R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"value","diagnostics":"bad \"date\"","expression":["Patient.birthDate"]},{"severity":"error","code":"structure","diagnostics":"unknown","expression":["Patient.x"]}]})");
  Response r = ErrorResponse(Status(StatusCode::kNotFound, "gone fishing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"not-found\""), std::string::npos);
}

}  // namespace
}  // namespace vesta::rest
