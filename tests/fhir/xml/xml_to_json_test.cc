#include "fhir/xml/xml_to_json.h"

#include <gtest/gtest.h>

#include "json/writer.h"

namespace vesta::fhirxml {
namespace {

std::string Convert(std::string_view xml) {
  Result<json::Document> d = ResourceXmlToJson(xml, fhir::Model::R4());
  if (!d.ok()) return "ERROR: " + d.status().message();
  return json::ToString(d->root());
}

TEST(XmlToJson, PrimitivesAreTypedByTheModel) {
  EXPECT_EQ(Convert(R"(<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>
                         <active value="true"/><birthDate value="1920-01-01"/>
                         <multipleBirthInteger value="2"/></Patient>)"),
            R"({"resourceType":"Patient","id":"p1","active":true,"birthDate":"1920-01-01",)"
            R"("multipleBirthInteger":2})");
  EXPECT_EQ(Convert(R"(<Observation xmlns="http://hl7.org/fhir"><status value="final"/>
                         <code><text value="x"/></code>
                         <valueQuantity><value value="1.50"/><unit value="g"/></valueQuantity>
                         </Observation>)"),
            R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
            R"("valueQuantity":{"value":1.50,"unit":"g"}})");
}

TEST(XmlToJson, RepeatingElementsBecomeArrays) {
  EXPECT_EQ(Convert(R"(<Patient xmlns="http://hl7.org/fhir"><name><given value="a"/>
                         <given value="b"/><family value="f"/></name></Patient>)"),
            R"({"resourceType":"Patient","name":[{"given":["a","b"],"family":"f"}]})");
}

TEST(XmlToJson, PrimitiveExtensionsAndAttributes) {
  EXPECT_EQ(Convert(R"(<Patient xmlns="http://hl7.org/fhir">
                         <extension url="http://x"><valueString value="s"/></extension>
                         <birthDate id="b" value="1920">
                           <extension url="http://y"><valueBoolean value="false"/></extension>
                         </birthDate>
                         <name><given value="a"/><given id="g2"/></name>
                         <maritalStatus id="m"><text value="t"/></maritalStatus></Patient>)"),
            R"({"resourceType":"Patient","extension":[{"url":"http://x","valueString":"s"}],)"
            R"("birthDate":"1920","_birthDate":{"id":"b","extension":[{"url":"http://y",)"
            R"("valueBoolean":false}]},"name":[{"given":["a",null],"_given":[null,{"id":"g2"}]}],)"
            R"("maritalStatus":{"id":"m","text":"t"}})");
}

TEST(XmlToJson, NestedResourcesAndDiv) {
  EXPECT_EQ(Convert(R"(<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="r"/>
                         <resource><Patient><gender value="male"/></Patient></resource>
                         </parameter></Parameters>)"),
            R"({"resourceType":"Parameters","parameter":[{"name":"r",)"
            R"("resource":{"resourceType":"Patient","gender":"male"}}]})");
  EXPECT_EQ(Convert(R"(<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>)"
                    R"(<div xmlns="http://www.w3.org/1999/xhtml"><b>a &amp; b</b><br/></div>)"
                    R"(</text><contained><Organization><id value="o"/></Organization></contained>)"
                    R"(</Patient>)"),
            R"({"resourceType":"Patient","text":{"status":"generated","div":)"
            R"("<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>a &amp; b</b><br/></div>"},)"
            R"("contained":[{"resourceType":"Organization","id":"o"}]})");
}

TEST(XmlToJson, Errors) {
  EXPECT_EQ(Convert("<Patient><nickname value='x'/></Patient>"),
            "ERROR: Patient has no element <nickname>");
  EXPECT_EQ(Convert("<Frob/>"), "ERROR: <Frob> is not a FHIR resource");
  EXPECT_EQ(Convert("<Patient><active value='yes'/></Patient>"),
            "ERROR: <active> value 'yes' is not a boolean");
  EXPECT_EQ(Convert("<Patient><multipleBirthInteger value='*2'/></Patient>"),
            "ERROR: <multipleBirthInteger> value '*2' is not a valid integer");
  EXPECT_EQ(Convert("<Patient><multipleBirthInteger value='02'/></Patient>"),
            "ERROR: <multipleBirthInteger> value '02' is not a valid integer");
  EXPECT_EQ(Convert("<Observation><status value='final'/><code/><valueQuantity>"
                    "<value value='1.'/></valueQuantity></Observation>"),
            "ERROR: <value> value '1.' is not a valid decimal");
  EXPECT_EQ(Convert("<Patient><maritalStatus id='a'><id value='b'/></maritalStatus></Patient>"),
            "ERROR: 'id' is given both as attribute and element");
  EXPECT_EQ(Convert("<Observation><status value='final'/><code/><valueQuantity>"
                    "<value value='-1.5e+3'/></valueQuantity></Observation>"),
            R"({"resourceType":"Observation","status":"final","code":{},)"
            R"("valueQuantity":{"value":-1.5e+3}})");
  EXPECT_EQ(Convert("<Patient><gender value='a'/><gender value='b'/></Patient>"),
            "ERROR: <gender> does not repeat");
  EXPECT_EQ(Convert("<Patient>"), "ERROR: malformed XML at line 1: no element found");
  std::string deep;
  for (int i = 0; i < kMaxXmlDepth + 5; ++i) deep += "<a>";
  EXPECT_EQ(Convert(deep), "ERROR: the XML is nested deeper than 256");
}

}  // namespace
}  // namespace vesta::fhirxml
