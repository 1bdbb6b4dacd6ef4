// Existence, filtering and projection, subsetting, combining, aggregates:
// http://hl7.org/fhirpath/N1/#existence and following sections.
#include <gtest/gtest.h>

#include "fhir/fhirpath/test_util.h"

namespace vesta::fhirpath::testing {
namespace {

TEST(FhirPathExistence, OnEmptyCollections) {
  EXPECT_EQ(Eval("{}.empty()"), "[true]");
  EXPECT_EQ(Eval("{}.exists()"), "[false]");
  EXPECT_EQ(Eval("{}.all($this = 1)"), "[true]");
  EXPECT_EQ(Eval("{}.allTrue()"), "[true]");
  EXPECT_EQ(Eval("{}.anyTrue()"), "[false]");
  EXPECT_EQ(Eval("{}.allFalse()"), "[true]");
  EXPECT_EQ(Eval("{}.anyFalse()"), "[false]");
  EXPECT_EQ(Eval("{}.count()"), "[0]");
  EXPECT_EQ(Eval("{}.distinct()"), "[]");
  EXPECT_EQ(Eval("{}.isDistinct()"), "[true]");
  EXPECT_EQ(Eval("{}.subsetOf(1 | 2)"), "[true]");
  EXPECT_EQ(Eval("(1 | 2).supersetOf({})"), "[true]");
  EXPECT_EQ(Eval("nothing.exists()"), "[false]");
}

TEST(FhirPathExistence, WithCriteria) {
  EXPECT_EQ(Eval("name.exists(use = 'usual')"), "[true]");
  EXPECT_EQ(Eval("name.all(given.exists())"), "[true]");
  EXPECT_EQ(Eval("name.all(family.exists())"), "[false]");
  EXPECT_EQ(Eval("(true | false).allTrue()"), "[false]");
  EXPECT_TRUE(IsError(Eval("(1 | 2).allTrue()")));
  EXPECT_EQ(Eval("(1 | 2 | 1).count()"), "[2]");  // union removes duplicates
  EXPECT_EQ(Eval("(1).combine(1).isDistinct()"), "[false]");
}

TEST(FhirPathFiltering, WhereSelectRepeat) {
  EXPECT_EQ(Eval("name.where(use = 'official').given"), R"(["Peter","James"])");
  EXPECT_EQ(Eval("name.where(family)"), R"([{"use":"official","family":"Chalmers","given":)"
                                        R"(["Peter","James"]}])");  // a string is true
  EXPECT_EQ(Eval("name.where({})"), "[]");
  EXPECT_TRUE(IsError(Eval("name.where(given)")));  // several items: not a Boolean
  EXPECT_EQ(Eval("name.select(given)"), R"(["Peter","James","Jim"])");
  EXPECT_EQ(Eval("name.select($index)"), "[0,1]");
  EXPECT_EQ(Eval("(1 | 2 | 3).select($this * 2)"), "[2,4,6]");
  EXPECT_EQ(Eval("name.repeat(given).count()"), "[3]");
  EXPECT_EQ(Eval("(1).repeat(2)"), "[2]");  // repeat stops on values already seen
  EXPECT_EQ(Eval("name.ofType(HumanName).count()"), "[2]");
  EXPECT_EQ(Eval("(1 | 'a' | 2.5).ofType(Integer)"), "[1]");
}

TEST(FhirPathSubsetting, Bounds) {
  EXPECT_EQ(Eval("(1 | 2 | 3).skip(-1)"), "[1,2,3]");
  EXPECT_EQ(Eval("(1 | 2 | 3).skip(5)"), "[]");
  EXPECT_EQ(Eval("(1 | 2 | 3).take(0)"), "[]");
  EXPECT_EQ(Eval("(1 | 2 | 3).take(10)"), "[1,2,3]");
  EXPECT_EQ(Eval("(1 | 2 | 3).tail()"), "[2,3]");
  EXPECT_EQ(Eval("(1 | 2 | 3)[1]"), "[2]");
  EXPECT_EQ(Eval("(1 | 2 | 3)[3]"), "[]");
  EXPECT_EQ(Eval("(1 | 2 | 3)[-1]"), "[]");
  EXPECT_EQ(Eval("(1 | 2 | 3)[{}]"), "[]");
  EXPECT_TRUE(IsError(Eval("(1 | 2 | 3)['a']")));
  EXPECT_TRUE(IsError(Eval("(1 | 2).single()")));
  EXPECT_EQ(Eval("{}.single()"), "[]");
  EXPECT_EQ(Eval("{}.first()"), "[]");
  EXPECT_EQ(Eval("(1 | 2 | 3).intersect(2 | 3 | 4)"), "[2,3]");
  EXPECT_EQ(Eval("(1 | 2 | 3).exclude(2)"), "[1,3]");
  EXPECT_EQ(Eval("(1 | 2).combine(2 | 3)"), "[1,2,2,3]");
  EXPECT_EQ(Eval("(1 | 2).union(2 | 3)"), "[1,2,3]");
}

TEST(FhirPathAggregate, TotalAndInit) {
  EXPECT_EQ(Eval("(1 | 2 | 3).aggregate($this + $total, 0)"), "[6]");
  EXPECT_EQ(Eval("(1 | 2 | 3).aggregate($total + $this)"), "[]");  // empty init stays empty
  EXPECT_EQ(Eval("(4 | 2 | 7).aggregate(iif($total.empty() or $this > $total, $this, $total))"),
            "[7]");
  EXPECT_EQ(Eval("{}.aggregate($this + $total, 5)"), "[5]");
}

TEST(FhirPathSort, KeysAndDirection) {
  EXPECT_EQ(Eval("(3 | 1 | 2).sort()"), "[1,2,3]");
  EXPECT_EQ(Eval("(3 | 1 | 2).sort(-$this)"), "[3,2,1]");
  EXPECT_EQ(Eval("name.sort(family).use"), R"(["usual","official"])");  // empty keys first
  EXPECT_TRUE(IsError(Eval("(1 | 'a').sort()")));
}

}  // namespace
}  // namespace vesta::fhirpath::testing
