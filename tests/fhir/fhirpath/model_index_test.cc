// ModelIndex (src/fhir/fhirpath/model_index.h) gives the model's answers: every name of every
// structure reachable from the R4 resource types, names that are not elements, type names.
#include "fhir/fhirpath/model_index.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <unordered_set>
#include <vector>

namespace vesta::fhirpath::internal {
namespace {

const fhir::Model& R4() { return fhir::Model::R4(); }

std::vector<const fhir::StructInfo*> ReachableStructures() {
  std::vector<const fhir::StructInfo*> all;
  std::unordered_set<const fhir::StructInfo*> seen;
  auto reach = [&](const fhir::StructInfo* st) {
    if (st != nullptr && seen.insert(st).second) all.push_back(st);
  };
  for (const std::string& name : R4().resource_types()) reach(R4().FindStruct(name));
  for (size_t i = 0; i < all.size(); ++i) {
    if (!all[i]->base.empty()) reach(R4().FindStruct(all[i]->base));
    for (const fhir::ElementInfo& e : all[i]->elements) {
      for (const fhir::TypeRef& t : e.types) {
        reach(t.structure != nullptr ? t.structure : R4().FindStruct(t.code));
      }
    }
  }
  return all;
}

TEST(FhirPathModelIndex, MembersAndElementsAsTheModel) {
  const ModelIndex& index = ModelIndex::R4();
  const std::vector<const fhir::StructInfo*> all = ReachableStructures();
  ASSERT_GT(all.size(), 500u);
  for (const fhir::StructInfo* st : all) {
    SCOPED_TRACE(st->name);
    const ModelIndex::Names names = index.NamesOf(st);
    for (const auto& [json_name, at] : st->json_names) {
      const fhir::ElementMatch want = st->Match(json_name);
      const MemberType got = names.MatchMember(json_name);
      EXPECT_EQ(got.element, want.element) << json_name;
      EXPECT_EQ(got.type, want.type) << json_name;
      ASSERT_NE(got.type, nullptr) << json_name;
      EXPECT_EQ(got.type_name, got.type->code) << json_name;
      EXPECT_EQ(got.structure, got.type->structure != nullptr ? got.type->structure
                                                              : R4().FindStruct(got.type->code));
    }
    for (const fhir::ElementInfo& e : st->elements) {
      const ElementName got = names.FindElement(e.name);
      EXPECT_EQ(got.element, st->FindElement(e.name)) << e.name;
      EXPECT_EQ(got.is_choice, got.element->is_choice) << e.name;
      if (got.is_choice) {
        EXPECT_EQ(names.MatchMember(e.name).element, nullptr) << e.name;
        EXPECT_EQ(got.member.type, nullptr) << e.name;
      } else {
        EXPECT_EQ(got.member.type, &got.element->types[0]) << e.name;
        EXPECT_EQ(got.is_primitive,
                  std::islower(static_cast<unsigned char>(got.element->types[0].code[0])) != 0)
            << e.name;
      }
    }
    for (std::string_view other : {"", "x", "nope", "valueNope", "aVeryLongNameThatIsNoElement"}) {
      EXPECT_EQ(names.MatchMember(other).element, st->Match(other).element) << other;
      EXPECT_EQ(names.FindElement(other).element, st->FindElement(other)) << other;
    }
    EXPECT_EQ(index.FindStruct(st->name), st);
  }
  // Untyped JSON has no elements.
  EXPECT_EQ(index.NamesOf(nullptr).MatchMember("id").element, nullptr);
  EXPECT_EQ(index.NamesOf(nullptr).FindElement("id").element, nullptr);
}

TEST(FhirPathModelIndex, TypeNamesAsTheModel) {
  const ModelIndex& index = ModelIndex::R4();
  for (std::string_view name : {"Patient", "HumanName", "string", "Resource", "DomainResource",
                                "Patient.contact", "MoneyQuantity", "SimpleQuantity", "Nope", ""}) {
    EXPECT_EQ(index.FindStruct(name), R4().FindStruct(name)) << name;
  }
  for (std::string_view type : {"Patient", "Age", "Quantity", "HumanName", "code", "Nope"}) {
    for (std::string_view ancestor :
         {"Resource", "DomainResource", "Quantity", "Element", "string", "Patient", "Nope"}) {
      EXPECT_EQ(index.IsA(type, ancestor), R4().IsA(type, ancestor)) << type << " " << ancestor;
    }
  }
}

}  // namespace
}  // namespace vesta::fhirpath::internal
