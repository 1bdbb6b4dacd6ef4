// The search plan as a value (search/plan.h): which condition drives, the page strategy, each
// condition's form, value tests bound to index columns, terminology code sets. No SQL here: the
// SQLite rendering is checked in search_test.cc and by the searches of store_search_test.cc.
#include "search/plan.h"

#include <gtest/gtest.h>

#include <variant>

#include "search/parse.h"
#include "search/registry.h"

namespace vesta::search {
namespace {

Result<Plan> Planned(std::vector<std::pair<std::string, std::string>> params,
                     std::map<size_t, CodeSet> code_sets = {}, std::string type = "Observation") {
  SearchSpec spec;
  spec.types = {std::move(type)};
  spec.params = std::move(params);
  spec.code_sets = std::move(code_sets);
  spec.handling = Handling::kStrict;
  return PlanSearch(Registry::R4(), spec);
}

template <typename T>
const T* As(const PlannedCondition& c) {
  return std::get_if<T>(&c.condition.test);
}

// https://hl7.org/fhir/R4/search.html#reference: a reference to one resource pins its index key,
// so an unsorted page walks it; the token is probed per row.
TEST(PlanValueTest, AReferenceDrivesAndTheOthersAreProbed) {
  auto plan = Planned({{"status", "final"}, {"subject", "Patient/p1"}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->conditions.size(), 2u);
  const IndexCondition* first = As<IndexCondition>(plan->conditions[0]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->table, ParamType::kReference);
  EXPECT_EQ(first->params, std::vector<std::string>{"subject"});
  EXPECT_TRUE(first->pinned);
  EXPECT_TRUE(plan->Is<Plan::IndexWalk>());
  EXPECT_EQ(plan->conditions[1].form, Form::kProbe);
  ASSERT_EQ(first->alternatives.size(), 1u);
  const search::Test& t = first->alternatives[0];
  ASSERT_EQ(t.children.size(), 2u);
  EXPECT_EQ(t.children[0].field.column, Column::kTargetType);
  EXPECT_EQ(t.children[0].values, std::vector<Value>{std::string("Patient")});
  EXPECT_EQ(t.children[1].field.column, Column::kTargetId);
  EXPECT_EQ(t.children[1].values, std::vector<Value>{std::string("p1")});
  // Sorted, the same search is collected: a sorted page needs every match.
  auto sorted = Planned({{"status", "final"}, {"subject", "Patient/p1"}, {"_sort", "date"}});
  ASSERT_TRUE(sorted.ok());
  EXPECT_TRUE(sorted->Is<Plan::Collect>());
  ASSERT_EQ(sorted->sort.size(), 1u);
  EXPECT_EQ(sorted->sort[0].table, ParamType::kDate);
}

// https://hl7.org/fhir/R4/search.html#date: `ge` is "the range above the search value intersects
// the range of the target value, or the range of the search value fully contains the range of
// the target value".
TEST(PlanValueTest, DatePrefixesBindToColumnTests) {
  auto plan = Planned({{"date", "ge2020"}});
  ASSERT_TRUE(plan.ok());
  const IndexCondition* c = As<IndexCondition>(plan->conditions[0]);
  ASSERT_NE(c, nullptr);
  const search::Test& ge = c->alternatives.at(0).children.at(0);
  ASSERT_EQ(ge.kind, search::Test::Kind::kAny);
  ASSERT_EQ(ge.children.size(), 2u);
  EXPECT_EQ(ge.children[0].field.column, Column::kDateHigh);
  EXPECT_EQ(ge.children[0].op, Op::kGt);
  EXPECT_EQ(ge.children[1].kind, search::Test::Kind::kAll);
  EXPECT_FALSE(c->pinned);
  // A date is no narrow condition: it is counted before a page, and walked when long.
  EXPECT_TRUE(plan->Is<Plan::CountThenWalk>());
}

// https://hl7.org/fhir/R4/search.html#chaining: a chain that drives an unsorted page walks its
// references in target order; across types its targets keep the parameter's order.
TEST(PlanValueTest, AChainDrivesAChainWalk) {
  auto plan = Planned({{"subject:Patient.family", "Smith"}, {"code", "http://loinc.org|1-8"}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // The coded token is a pinned equality (priority 1) and the chain is priority 1 too: the
  // first written wins.
  const ChainCondition* chain = As<ChainCondition>(plan->conditions[0]);
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(chain->param, "subject");
  ASSERT_EQ(chain->targets.size(), 1u);
  EXPECT_EQ(chain->targets[0].type, "Patient");
  EXPECT_TRUE(std::holds_alternative<IndexCondition>(chain->targets[0].inner->test));
  EXPECT_TRUE(plan->Is<Plan::ChainWalk>());
  EXPECT_EQ(plan->KeyColumns(), 1u);
  // A cursor of the other form was not made for this search.
  auto foreign = Planned({{"subject:Patient.family", "Smith"}, {"_cursor", "12"}});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), StatusCode::kInvalid);
}

// When a name drives, another name is collected as its own list (both from the name index);
// other conditions are probed.
TEST(PlanValueTest, NamesBesideADrivingNameAreLists) {
  auto plan = Planned({{"family", "smith"}, {"given", "jo"}, {"gender", "female"}}, {}, "Patient");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->conditions.size(), 3u);
  // gender (token, priority 1) drives; the names are then probed.
  EXPECT_NE(As<IndexCondition>(plan->conditions[0]), nullptr);
  EXPECT_EQ(As<IndexCondition>(plan->conditions[0])->table, ParamType::kToken);
  EXPECT_EQ(plan->conditions[1].form, Form::kProbe);
  auto names = Planned({{"family", "smith"}, {"given", "jo"}}, {}, "Patient");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(As<IndexCondition>(names->conditions[0])->name_index);
  EXPECT_EQ(names->conditions[1].form, Form::kList);
}

// https://hl7.org/fhir/R4/search.html#token: :in / :not-in / :below / :above reach the planner as
// code sets, never as text; a long set is one set test per system.
TEST(PlanValueTest, TerminologyModifiersAreCodeSets) {
  CodeSet many;
  for (int i = 0; i < 40; ++i) {
    many.codes.emplace_back("http://snomed.info/sct", std::to_string(1000 + i));
  }
  many.codes.emplace_back("", "final");  // a plain code element's row: no system
  auto in = Planned({{"code:in", "http://example.org/vs"}}, {{0, many}});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  const IndexCondition* c = As<IndexCondition>(in->conditions[0]);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->negated);
  ASSERT_EQ(c->alternatives.size(), 2u);  // one per system
  const search::Test& sct = c->alternatives[0];
  ASSERT_EQ(sct.children.size(), 2u);
  EXPECT_EQ(sct.children[0].values, std::vector<Value>{std::string("http://snomed.info/sct")});
  EXPECT_EQ(sct.children[1].op, Op::kInSet);
  EXPECT_EQ(sct.children[1].values.size(), 40u);
  EXPECT_EQ(std::get<std::string>(sct.children[1].values[7]), "1007");
  // The link shows what the client asked for.
  ASSERT_EQ(in->used.size(), 1u);
  EXPECT_EQ(in->used[0].second, "http://example.org/vs");

  auto not_in = Planned({{"code:not-in", "http://example.org/vs"}}, {{0, many}});
  ASSERT_TRUE(not_in.ok());
  EXPECT_TRUE(As<IndexCondition>(not_in->conditions[0])->negated);
  EXPECT_FALSE(not_in->HasDrivingSet());

  // A set with no member: :in matches nothing, :not-in everything.
  auto empty = Planned({{"code:in", "http://example.org/empty"}}, {{0, CodeSet{}}});
  ASSERT_TRUE(empty.ok());
  const ConstantCondition* none = As<ConstantCondition>(empty->conditions[0]);
  ASSERT_NE(none, nullptr);
  EXPECT_FALSE(none->value);
  auto all = Planned({{"code:not-in", "http://example.org/empty"}}, {{0, CodeSet{}}});
  EXPECT_TRUE(As<ConstantCondition>(all->conditions[0])->value);

  // A short set: one equality per code, and one code pins the index.
  CodeSet one;
  one.codes.emplace_back("http://loinc.org", "8867-4");
  auto single = Planned({{"code:below", "http://loinc.org|8867-4"}}, {{0, one}});
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(As<IndexCondition>(single->conditions[0])->pinned);
  EXPECT_TRUE(single->Is<Plan::IndexWalk>());

  // Without a code set the modifier is the planner's to judge: tokens do not take :below alone.
  auto bare = Planned({{"code:below", "http://loinc.org|8867-4"}});
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find("code:below"), std::string::npos);
}

// A chained or _has parameter takes its code set to the inner parameter.
TEST(PlanValueTest, CodeSetsReachInnerParameters) {
  CodeSet set;
  set.codes.emplace_back("http://loinc.org", "8867-4");
  SearchSpec spec;
  spec.types = {"Patient"};
  spec.params = {{"_has:Observation:patient:code:in", "http://example.org/vs"}};
  spec.code_sets = {{0, set}};
  auto plan = PlanSearch(Registry::R4(), spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const HasCondition* has = As<HasCondition>(plan->conditions[0]);
  ASSERT_NE(has, nullptr);
  EXPECT_EQ(has->source, "Observation");
  EXPECT_TRUE(has->plain_inner);
  EXPECT_TRUE(std::holds_alternative<IndexCondition>(has->inner->test));
  EXPECT_TRUE(plan->conditions[0].condition.HasProbe());
}

// Across several types a parameter holds in one of them; _text is one set for all.
TEST(PlanValueTest, SystemSearchesOrTheirTypes) {
  SearchSpec spec;
  spec.params = {{"_type", "Patient,Practitioner"}, {"name", "smith"}};
  auto plan = PlanSearch(Registry::R4(), spec);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const AnyTypeCondition* any = As<AnyTypeCondition>(plan->conditions[0]);
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->alternatives.size(), 2u);
  EXPECT_FALSE(plan->HasDrivingSet());
  spec.params = {{"_type", "Patient,Practitioner"}, {"_content", "smith"}};
  auto text = PlanSearch(Registry::R4(), spec);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(As<TextCondition>(text->conditions[0]), nullptr);
  EXPECT_TRUE(text->HasDrivingSet());
}

TEST(PlanValueTest, CursorsRoundTrip) {
  Cursor c;
  c.keys = {int64_t{-5}, 2.5, std::string("Patient/a|b~c")};
  c.seq = 42;
  auto back = DecodeCursor(EncodeCursor(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->keys, c.keys);
  EXPECT_EQ(back->seq, 42);
  for (const char* bad : {"", "x", "s7g~1", "iabc~1", "i1~", "q1~2"}) {
    EXPECT_FALSE(DecodeCursor(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vesta::search
