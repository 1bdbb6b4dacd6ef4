// Views: validation errors that name the place, evaluation details the conformance suite does not
// cover (keys, repeat order, errors at run time), and the output formats.
#include "views/view.h"

#include <gtest/gtest.h>

#include "json/parse.h"
#include "views/output.h"

namespace vesta::views {
namespace {

std::string Error(std::string_view view_json) {
  Result<View> v = View::ParseText(view_json);
  return v.ok() ? "" : v.status().message();
}

// Runs `view_json` over `resources` (NDJSON-like: one JSON per element) in `format`.
Result<std::string> RunView(std::string_view view_json, const std::vector<std::string>& resources,
                            Format format) {
  ASSIGN_OR_RETURN(View view, View::ParseText(view_json));
  std::string out;
  ViewOutput run(view, format, [&](std::string_view chunk) {
    out += chunk;
    return Status::Ok();
  });
  RETURN_IF_ERROR(run.Begin());
  for (const std::string& r : resources) {
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(r));
    RETURN_IF_ERROR(run.Add(doc.root()));
  }
  RETURN_IF_ERROR(run.Finish());
  return out;
}

TEST(ViewValidation, ErrorsNameThePlace) {
  const struct {
    const char* view;
    const char* error;
  } kCases[] = {
      {R"j({"select":[{"column":[{"name":"id","path":"id"}]}]})j", "resource: is required"},
      {R"j({"resource":"Patientt","select":[{"column":[{"name":"id","path":"id"}]}]})j",
       "resource: must be a FHIR R4 resource type"},
      {R"j({"resource":"Patient","select":[]})j", "select: needs at least one select"},
      {R"j({"resource":"Patient","select":[{"column":[{"name":"id","path":"id"}]},
          {"column":[{"name":"x","path":"name.frist()"}]}]
})j",
       "select[1].column[0].path: FHIRPath: unknown function 'frist'"},
      {R"j({"resource":"Patient","select":[{"column":[{"name":"1id","path":"id"}]}]})j",
       "select[0].column[0].name: '1id' must start with a letter"},
      {R"j({"resource":"Patient","select":[{"column":[{"name":"id","path":"id"}]},
          {"forEach":"name","column":[{"name":"id","path":"family"}]}]})j",
       "select[1].column[0].name: the column 'id' is already defined"},
      {R"j({"resource":"Patient","select":[{"forEach":"name","repeat":["x"]}]})j",
       "select[0]: can have only one of forEach, forEachOrNull and repeat"},
      {R"j({"resource":"Patient","select":[{"forEach":1}]})j",
       "select[0].forEach: must be a FHIRPath expression"},
      {R"j({"resource":"Patient","select":[{"unionAll":[{"column":[{"name":"a","path":"id"}]},
          {"column":[{"name":"b","path":"id"}]}]}]})j",
       "select[0].unionAll[1]: a unionAll branch must produce the same columns"},
      {R"j({"resource":"Patient","constant":[{"name":"c"}],"select":[{"column":[{"name":"a","path":"%c"}]}]})j",
       "constant[0]: needs a value[x]"},
      {R"j({"resource":"Patient","constant":[{"name":"c","valueInteger":"1"}],"select":[{"column":[{"name":"a","path":"%c"}]}]})j",
       "constant[0].valueInteger: must be a whole number"},
      {R"j({"resource":"Patient","select":[{"column":[{"name":"a","path":"name.where(use = %nope)"}]
}]
})j",
       "select[0].column[0].path: %nope is neither a constant"},
      {R"j({"resource":"Patient","select":[{"colum":[]}]})j", "select[0]: unknown element 'colum'"},
      {R"j({"resource":"Patient","select":[{"column":[{"name":"a","path":"id"}]}],"where":[{"path":""}]})j",
       "where[0].path: must not be empty"},
  };
  for (const auto& c : kCases) {
    const std::string error = Error(c.view);
    EXPECT_TRUE(error.starts_with(c.error)) << c.view << "\n  gave: " << error;
  }
}

TEST(ViewValidation, ColumnsInOutputOrder) {
  Result<View> v = View::ParseText(R"j({"resource":"Patient","name":"p","select":[
      {"column":[{"name":"a","path":"id","type":"id"}],
       "select":[{"forEach":"name","column":[{"name":"b","path":"family","tag":[{"name":"ansi/type","value":"TEXT"}]}]}],
       "unionAll":[{"column":[{"name":"c","path":"'x'","collection":false}]},{"column":[{"name":"c","path":"'y'"}]}]},
      {"column":[{"name":"d","path":"%rowIndex"}]}]})j");
  ASSERT_TRUE(v.ok()) << v.status().message();
  std::vector<std::string> names;
  for (const ColumnInfo& c : v->columns()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(v->columns()[0].type, "id");
  ASSERT_EQ(v->columns()[1].tags.size(), 1u);
  EXPECT_EQ(v->columns()[1].tags[0].second, "TEXT");
}

TEST(ViewRun, ResourceAndReferenceKeys) {
  Result<std::string> out = RunView(
      R"j({"resource":"Observation","select":[{"column":[{"name":"id","path":"getResourceKey()"},
         {"name":"patient","path":"subject.getReferenceKey(Patient)"},
         {"name":"any","path":"subject.getReferenceKey()"},
         {"name":"group","path":"subject.getReferenceKey(Group)"}]
}]
})j",
      {R"j({"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1/_history/2"}})j",
       R"j({"resourceType":"Observation","id":"o2","subject":{"reference":"http://x.org/fhir/Patient/p1"}})j",
       R"j({"resourceType":"Patient","id":"p1"})j"},
      Format::kNdjson);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out,
            "{\"id\":\"Observation/o1\",\"patient\":\"Patient/p1\",\"any\":\"Patient/p1\","
            "\"group\":null}\n"
            "{\"id\":\"Observation/o2\",\"patient\":null,\"any\":null,\"group\":null}\n");
}

TEST(ViewRun, RunTimeErrorsNameTheResourceAndPlace) {
  Result<std::string> out = RunView(
      R"j({"resource":"Patient","select":[{"column":[{"name":"f","path":"name.family"}]}]})j",
      {R"j({"resourceType":"Patient","id":"p1","name":[{"family":"a"},{"family":"b"}]})j"},
      Format::kCsv);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "Patient/p1: select[0].column[0] (f): 2 values for a column that is not a collection "
            "(set collection: true)");
  out =
      RunView(R"j({"resource":"Patient","select":[{"column":[{"name":"i","path":"id"}]}],
               "where":[{"path":"name.family"}]})j",
              {R"j({"resourceType":"Patient","id":"p1","name":[{"family":"a"}]})j"}, Format::kCsv);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(
      out.status().message().starts_with("Patient/p1: where[0].path: must evaluate to a "
                                         "single Boolean"))
      << out.status().message();
}

TEST(ViewOutputFormats, CsvQuotingNdjsonAndJson) {
  const char* view = R"j({"resource":"Patient","select":[{"column":[
      {"name":"id","path":"id"},{"name":"family","path":"name.family"},
      {"name":"given","path":"name.given","collection":true},{"name":"active","path":"active"},
      {"name":"n","path":"multipleBirth.ofType(integer)"}]
}]
})j";
  const std::vector<std::string> in = {
      R"j({"resourceType":"Patient","id":"a","active":true,"multipleBirthInteger":2,"name":[{"family":"O\"Brien, Jr\nthe 2nd","given":["x","y"]}]})j",
      R"j({"resourceType":"Patient","id":"b"})j"};
  Result<std::string> csv = RunView(view, in, Format::kCsv);
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  EXPECT_EQ(*csv,
            "id,family,given,active,n\r\n"
            "a,\"O\"\"Brien, Jr\nthe 2nd\",\"[\"\"x\"\",\"\"y\"\"]\",true,2\r\n"
            "b,,[],,\r\n");
  Result<std::string> ndjson = RunView(view, in, Format::kNdjson);
  ASSERT_TRUE(ndjson.ok());
  EXPECT_EQ(*ndjson,
            "{\"id\":\"a\",\"family\":\"O\\\"Brien, Jr\\nthe 2nd\",\"given\":[\"x\",\"y\"],"
            "\"active\":true,\"n\":2}\n"
            "{\"id\":\"b\",\"family\":null,\"given\":[],\"active\":null,\"n\":null}\n");
  Result<std::string> json = RunView(view, {in[1], in[1]}, Format::kJson);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            "[{\"id\":\"b\",\"family\":null,\"given\":[],\"active\":null,\"n\":null},\n"
            "{\"id\":\"b\",\"family\":null,\"given\":[],\"active\":null,\"n\":null}]\n");
  Result<std::string> empty = RunView(view, {}, Format::kJson);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "[]\n");
}

TEST(ViewOutputFormats, FormatNames) {
  EXPECT_EQ(*ParseFormat("text/csv"), Format::kCsv);
  EXPECT_EQ(*ParseFormat("application/x-ndjson"), Format::kNdjson);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("parquet").ok());
}

}  // namespace
}  // namespace vesta::views
