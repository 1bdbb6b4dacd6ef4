// SMART scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html): parsing
// in both spellings, what a set of scopes allows, and the intersection that grants them.
#include "auth/scopes.h"

#include <gtest/gtest.h>

namespace vesta::auth {
namespace {

ScopeSet Parse(std::string_view text) {
  Result<ScopeSet> s = ParseScopes(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : ScopeSet{};
}

// Each scope as written, and its v2 spelling (the v1 words map as SMART 2.0's equivalence says).
TEST(ScopesTest, ParsesBothSpellings) {
  const std::pair<const char*, const char*> cases[] = {
      {"patient/Observation.rs", "patient/Observation.rs"},
      {"patient/Observation.read", "patient/Observation.rs"},
      {"user/*.write", "user/*.cud"},
      {"system/*.*", "system/*.cruds"},
      {"user/Patient.cruds", "user/Patient.cruds"},
      {"system/Condition.d", "system/Condition.d"},
      {"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
       "observation-category|laboratory",
       "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
       "observation-category|laboratory"},
      {"patient/Observation.rs?code=http%3A%2F%2Floinc.org|1-1&status=final",
       "patient/Observation.rs?code=http://loinc.org|1-1&status=final"},
  };
  for (const auto& [text, v2] : cases) {
    Result<ResourceScope> s = ParseResourceScope(text);
    ASSERT_TRUE(s.ok()) << text << ": " << s.status().ToString();
    EXPECT_EQ(s->ToString(), v2) << text;
  }
}

TEST(ScopesTest, RefusesMalformedResourceScopes) {
  const std::pair<const char*, const char*> cases[] = {
      {"patient/Observation.sr", "in that order"},
      {"patient/Observation.x", "in that order"},
      {"patient/Observation.", "names no permission"},
      {"patient/.rs", "not <context>/<type>.<permissions>"},
      {"patient/Observation", "not <context>/<type>.<permissions>"},
      {"patient/Obs-ervation.rs", "not a resource type"},
      {"patient/Observation.read?category=x", "need v2 permissions"},
      {"patient/Observation.rs?category", "name=value"},
      {"patient/Observation.rs?", "name=value"},
  };
  for (const auto& [text, why] : cases) {
    Result<ScopeSet> s = ParseScopes(std::string("openid ") + text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.status().message().find(why), std::string::npos) << s.status().message();
  }
}

TEST(ScopesTest, KeepsContextAndIdentityScopes) {
  ScopeSet s = Parse("openid fhirUser launch launch/patient offline_access patient/*.rs my-own");
  EXPECT_TRUE(s.openid && s.fhir_user && s.launch && s.launch_patient && s.offline_access);
  EXPECT_FALSE(s.online_access || s.launch_encounter);
  ASSERT_EQ(s.resources.size(), 1u);
  EXPECT_EQ(s.other, std::vector<std::string>{"my-own"});
  EXPECT_EQ(s.ToString(),
            "openid fhirUser launch launch/patient offline_access patient/*.rs my-own");
}

TEST(ScopesTest, DecidesByTypeAndPermission) {
  ScopeSet s = Parse("patient/Condition.rs patient/Patient.r");
  Decision read = Decide(s, Permission::kRead, "Condition");
  EXPECT_TRUE(read.allowed);
  EXPECT_TRUE(read.patient_only);
  EXPECT_TRUE(read.constraints.empty());

  Decision obs = Decide(s, Permission::kSearch, "Observation");
  EXPECT_FALSE(obs.allowed);
  EXPECT_EQ(obs.missing, "patient/Observation.s");
  EXPECT_FALSE(Decide(s, Permission::kSearch, "Patient").allowed);
  EXPECT_FALSE(Decide(s, Permission::kUpdate, "Condition").allowed);
  EXPECT_EQ(Decide(s, Permission::kUpdate, "Condition").missing, "patient/Condition.u");

  ScopeSet system = Parse("system/*.rs");
  Decision any = Decide(system, Permission::kRead, "Observation");
  EXPECT_TRUE(any.allowed);
  EXPECT_FALSE(any.patient_only);
  EXPECT_FALSE(Decide(system, Permission::kCreate, "Observation").allowed);
  EXPECT_EQ(Decide(system, Permission::kDelete, "Observation").missing, "system/Observation.d");
}

TEST(ScopesTest, BroadScopesWinAndGranularOnesConstrain) {
  // A user/ scope without a query allows everything of the type, whatever else is granted.
  Decision d = Decide(Parse("patient/Observation.rs user/Observation.rs"), Permission::kSearch,
                      "Observation");
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.patient_only);
  EXPECT_TRUE(d.constraints.empty());

  // Granular patient scopes: the patient's compartment, and one of the queries.
  d = Decide(Parse("patient/Observation.rs?category=laboratory "
                   "patient/Observation.rs?category=vital-signs"),
             Permission::kSearch, "Observation");
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.patient_only);
  ASSERT_EQ(d.constraints.size(), 2u);
  EXPECT_EQ(d.constraints[1], (QueryList{{"category", "vital-signs"}}));

  // An unconstrained patient scope lifts the patient scopes' queries.
  d = Decide(Parse("patient/Observation.rs?category=laboratory patient/*.rs"), Permission::kSearch,
             "Observation");
  EXPECT_TRUE(d.patient_only);
  EXPECT_TRUE(d.constraints.empty());

  // A granular user scope beside a patient scope: a union the server does not evaluate.
  d = Decide(Parse("patient/Observation.rs user/Observation.rs?category=laboratory"),
             Permission::kSearch, "Observation");
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.mixed);

  // Granular system scope alone.
  d = Decide(Parse("system/Observation.rs?status=final"), Permission::kRead, "Observation");
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.patient_only);
  ASSERT_EQ(d.constraints.size(), 1u);
}

TEST(ScopesTest, GrantsTheIntersection) {
  auto scopes = [](std::string_view text) { return Parse(text).resources; };
  auto text = [](const std::vector<ResourceScope>& r) {
    std::string out;
    for (const ResourceScope& s : r) out += (out.empty() ? "" : " ") + s.ToString();
    return out;
  };
  // Fewer permissions than asked; a type named under '*'; another context: nothing.
  EXPECT_EQ(text(Intersect(scopes("patient/*.cruds"), scopes("patient/*.rs"))), "patient/*.rs");
  EXPECT_EQ(text(Intersect(scopes("patient/Observation.rs"), scopes("patient/*.r"))),
            "patient/Observation.r");
  EXPECT_EQ(text(Intersect(scopes("patient/*.rs"), scopes("patient/Condition.rs"))),
            "patient/Condition.rs");
  EXPECT_EQ(text(Intersect(scopes("user/*.rs"), scopes("patient/*.rs"))), "");
  EXPECT_EQ(text(Intersect(scopes("system/*.cruds"), scopes("system/*.rs system/Patient.u"))),
            "system/*.rs system/Patient.u");
  // Queries: the registered one narrows an unconstrained request; two different ones exclude
  // each other.
  EXPECT_EQ(text(Intersect(scopes("patient/Observation.rs"),
                           scopes("patient/Observation.rs?category=laboratory"))),
            "patient/Observation.rs?category=laboratory");
  EXPECT_EQ(text(Intersect(scopes("patient/Observation.rs?category=vital-signs"),
                           scopes("patient/Observation.rs?category=laboratory"))),
            "");
  EXPECT_EQ(text(Intersect(scopes("patient/Observation.rs?category=vital-signs"),
                           scopes("patient/*.rs"))),
            "patient/Observation.rs?category=vital-signs");
}

}  // namespace
}  // namespace vesta::auth
