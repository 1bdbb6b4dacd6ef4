#include "fhir/model/model.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vesta::fhir {
namespace {

TEST(ModelTest, LoadsAllResourceTypes) {
  const Model& m = Model::R4();
  // 148 resource StructureDefinitions in R4 less the abstract Resource and DomainResource.
  EXPECT_EQ(m.resource_types().size(), 146u);
  EXPECT_TRUE(m.IsResourceType("Patient"));
  EXPECT_TRUE(m.IsResourceType("Observation"));
  EXPECT_FALSE(m.IsResourceType("HumanName"));
  EXPECT_FALSE(m.IsResourceType("Nonsense"));
  EXPECT_TRUE(m.IsPrimitiveType("dateTime"));
  EXPECT_FALSE(m.IsPrimitiveType("Quantity"));
}

TEST(ModelTest, ElementsCardinalityAndTypes) {
  const StructInfo* patient = Model::R4().FindStruct("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->kind, TypeKind::kResource);
  EXPECT_EQ(patient->base, "DomainResource");
  const ElementInfo* name = patient->FindElement("name");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->is_array());
  EXPECT_EQ(name->types[0].code, "HumanName");
  ASSERT_NE(name->types[0].structure, nullptr);
  EXPECT_EQ(name->types[0].structure->name, "HumanName");
  const ElementInfo* birth = patient->FindElement("birthDate");
  ASSERT_NE(birth, nullptr);
  EXPECT_FALSE(birth->is_array());
  EXPECT_EQ(birth->types[0].code, "date");
  // Inherited elements are in the snapshot.
  EXPECT_NE(patient->FindElement("meta"), nullptr);
  EXPECT_NE(patient->FindElement("contained"), nullptr);
  EXPECT_EQ(patient->FindElement("id")->types[0].code, "string");
}

TEST(ModelTest, ChoiceElementsMatchByTypeSuffix) {
  const StructInfo* patient = Model::R4().FindStruct("Patient");
  ElementMatch m = patient->Match("deceasedBoolean");
  ASSERT_NE(m.element, nullptr);
  EXPECT_EQ(m.element->name, "deceased");
  EXPECT_TRUE(m.element->is_choice);
  EXPECT_EQ(m.type->code, "boolean");
  EXPECT_EQ(patient->Match("deceasedDateTime").type->code, "dateTime");
  EXPECT_EQ(patient->Match("deceased").element, nullptr);
  EXPECT_EQ(patient->Match("deceasedString").element, nullptr);
  const StructInfo* obs = Model::R4().FindStruct("Observation");
  EXPECT_EQ(obs->Match("valueQuantity").type->structure->name, "Quantity");
}

TEST(ModelTest, PrimitiveExtensionsAndBackbones) {
  const Model& model = Model::R4();
  ElementMatch m = model.FindStruct("Patient")->Match("_birthDate");
  ASSERT_NE(m.element, nullptr);
  EXPECT_TRUE(m.is_primitive_extension);
  const ElementInfo* contact = model.FindStruct("Patient")->FindElement("contact");
  ASSERT_NE(contact->types[0].structure, nullptr);
  EXPECT_EQ(contact->types[0].structure->name, "Patient.contact");
  EXPECT_EQ(contact->types[0].structure->kind, TypeKind::kBackbone);
  EXPECT_NE(contact->types[0].structure->FindElement("relationship"), nullptr);
  // contentReference: Questionnaire.item.item is a Questionnaire.item.
  const StructInfo* item = model.FindStruct("Questionnaire.item");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->FindElement("item")->types[0].structure, item);
  // Reference targets.
  const ElementInfo* subject = model.FindStruct("Observation")->FindElement("subject");
  EXPECT_NE(std::find(subject->types[0].target_types.begin(), subject->types[0].target_types.end(),
                      "Patient"),
            subject->types[0].target_types.end());
}

TEST(ModelTest, TypeHierarchy) {
  const Model& m = Model::R4();
  EXPECT_TRUE(m.IsA("Patient", "DomainResource"));
  EXPECT_TRUE(m.IsA("Patient", "Resource"));
  EXPECT_TRUE(m.IsA("Age", "Quantity"));
  EXPECT_FALSE(m.IsA("Quantity", "Age"));
  EXPECT_TRUE(m.IsA("Bundle", "Resource"));
  EXPECT_FALSE(m.IsA("Bundle", "DomainResource"));
}

TEST(ModelTest, RejectsMalformedText) {
  EXPECT_FALSE(Model::FromText("X|nonsense").ok());
  EXPECT_FALSE(Model::FromText("E|A.b|0|1|string||").ok());  // element before any type
}

}  // namespace
}  // namespace vesta::fhir
