// The table of FHIRPath functions: names and arities, checked when an expression is compiled.
//
// http://hl7.org/fhirpath/N1/#functions, the FHIR additions
// https://hl7.org/fhir/R4/fhirpath.html#functions, and FHIRPath 2.0 and the current build's
// (https://build.fhir.org/ig/HL7/FHIRPath/): toLong, lastIndexOf, coalesce, the date/time
// component extractors, duration and difference.
#pragma once

#include <string_view>

namespace vesta::fhirpath::internal {

// clang-format off
#define VESTA_FHIRPATH_FUNCTIONS(X)                                                       \
  X(kEmpty, "empty", 0, 0) X(kExists, "exists", 0, 1) X(kAll, "all", 1, 1)                \
  X(kAllTrue, "allTrue", 0, 0) X(kAnyTrue, "anyTrue", 0, 0) X(kAllFalse, "allFalse", 0, 0) \
  X(kAnyFalse, "anyFalse", 0, 0) X(kSubsetOf, "subsetOf", 1, 1)                           \
  X(kSupersetOf, "supersetOf", 1, 1) X(kCount, "count", 0, 0) X(kDistinct, "distinct", 0, 0) \
  X(kIsDistinct, "isDistinct", 0, 0) X(kWhere, "where", 1, 1) X(kSelect, "select", 1, 1)  \
  X(kRepeat, "repeat", 1, 1) X(kOfType, "ofType", 1, 1) X(kSingle, "single", 0, 0)        \
  X(kFirst, "first", 0, 0) X(kLast, "last", 0, 0) X(kTail, "tail", 0, 0)                  \
  X(kSkip, "skip", 1, 1) X(kTake, "take", 1, 1) X(kIntersect, "intersect", 1, 1)          \
  X(kExclude, "exclude", 1, 1) X(kUnion, "union", 1, 1) X(kCombine, "combine", 1, 1)      \
  X(kIif, "iif", 2, 3) X(kToBoolean, "toBoolean", 0, 0)                                   \
  X(kConvertsToBoolean, "convertsToBoolean", 0, 0) X(kToInteger, "toInteger", 0, 0)       \
  X(kConvertsToInteger, "convertsToInteger", 0, 0) X(kToDate, "toDate", 0, 0)             \
  X(kConvertsToDate, "convertsToDate", 0, 0) X(kToDateTime, "toDateTime", 0, 0)           \
  X(kConvertsToDateTime, "convertsToDateTime", 0, 0) X(kToDecimal, "toDecimal", 0, 0)     \
  X(kConvertsToDecimal, "convertsToDecimal", 0, 0) X(kToQuantity, "toQuantity", 0, 1)     \
  X(kConvertsToQuantity, "convertsToQuantity", 0, 1) X(kToString, "toString", 0, 0)       \
  X(kConvertsToString, "convertsToString", 0, 0) X(kToTime, "toTime", 0, 0)               \
  X(kConvertsToTime, "convertsToTime", 0, 0) X(kIndexOf, "indexOf", 1, 1)                 \
  X(kSubstring, "substring", 1, 2) X(kStartsWith, "startsWith", 1, 1)                     \
  X(kEndsWith, "endsWith", 1, 1) X(kContainsFn, "contains", 1, 1) X(kUpper, "upper", 0, 0) \
  X(kLower, "lower", 0, 0) X(kReplace, "replace", 2, 2) X(kMatches, "matches", 1, 2)      \
  X(kMatchesFull, "matchesFull", 1, 2) X(kReplaceMatches, "replaceMatches", 2, 3)         \
  X(kLength, "length", 0, 0) X(kToChars, "toChars", 0, 0) X(kTrim, "trim", 0, 0)          \
  X(kSplit, "split", 1, 1) X(kJoin, "join", 0, 1) X(kEncode, "encode", 1, 1)              \
  X(kDecode, "decode", 1, 1) X(kEscape, "escape", 1, 1) X(kUnescape, "unescape", 1, 1)    \
  X(kAbs, "abs", 0, 0) X(kCeiling, "ceiling", 0, 0) X(kExp, "exp", 0, 0)                  \
  X(kFloor, "floor", 0, 0) X(kLn, "ln", 0, 0) X(kLog, "log", 1, 1) X(kPower, "power", 1, 1) \
  X(kRound, "round", 0, 1) X(kSqrt, "sqrt", 0, 0) X(kTruncate, "truncate", 0, 0)          \
  X(kChildren, "children", 0, 0) X(kDescendants, "descendants", 0, 0)                     \
  X(kTrace, "trace", 1, 2) X(kNow, "now", 0, 0) X(kTimeOfDay, "timeOfDay", 0, 0)          \
  X(kToday, "today", 0, 0) X(kNot, "not", 0, 0) X(kAggregate, "aggregate", 1, 2)          \
  X(kIs, "is", 1, 1) X(kAs, "as", 1, 1) X(kType, "type", 0, 0) X(kSort, "sort", 0, 9)     \
  X(kLowBoundary, "lowBoundary", 0, 1) X(kHighBoundary, "highBoundary", 0, 1)             \
  X(kPrecision, "precision", 0, 0) X(kComparable, "comparable", 1, 1)                     \
  X(kExtension, "extension", 1, 1) X(kHasValue, "hasValue", 0, 0)                         \
  X(kGetValue, "getValue", 0, 0) X(kResolve, "resolve", 0, 0)                             \
  X(kHtmlChecks, "htmlChecks", 0, 0) X(kMemberOf, "memberOf", 1, 1)                       \
  X(kConformsTo, "conformsTo", 1, 1) X(kSubsumes, "subsumes", 1, 1)                       \
  X(kSubsumedBy, "subsumedBy", 1, 1) X(kElementDefinition, "elementDefinition", 0, 0)     \
  X(kSlice, "slice", 2, 2) X(kCheckModifiers, "checkModifiers", 1, 1)                     \
  X(kDefineVariable, "defineVariable", 1, 2)                                              \
  X(kToLong, "toLong", 0, 0) X(kConvertsToLong, "convertsToLong", 0, 0)                   \
  X(kLastIndexOf, "lastIndexOf", 1, 1) X(kCoalesce, "coalesce", 1, 99)                    \
  X(kYearOf, "yearOf", 0, 0) X(kMonthOf, "monthOf", 0, 0) X(kDayOf, "dayOf", 0, 0)        \
  X(kHourOf, "hourOf", 0, 0) X(kMinuteOf, "minuteOf", 0, 0)                               \
  X(kSecondOf, "secondOf", 0, 0) X(kMillisecondOf, "millisecondOf", 0, 0)                 \
  X(kTimezoneOffsetOf, "timezoneOffsetOf", 0, 0) X(kDateOf, "dateOf", 0, 0)               \
  X(kTimeOf, "timeOf", 0, 0) X(kDuration, "duration", 2, 2)                               \
  X(kDifference, "difference", 2, 2)
// clang-format on

enum class Fn : uint8_t {
#define VESTA_FN_ENUM(id, name, lo, hi) id,
  VESTA_FHIRPATH_FUNCTIONS(VESTA_FN_ENUM)
#undef VESTA_FN_ENUM
      kUnknown,
  kCallerFunction,  // a function added by the caller (Node::extension)
};

struct FunctionInfo {
  Fn fn;
  std::string_view name;
  int min_args;
  int max_args;
};

// The function named `name`, or nullptr.
const FunctionInfo* FindFunction(std::string_view name);

}  // namespace vesta::fhirpath::internal
