// Civil dates and times for generated records, computed with integer arithmetic only (Howard
// Hinnant's days_from_civil algorithm, http://howardhinnant.github.io/date_algorithms.html), so
// output never depends on the machine's time zone database.
//
// A Time is seconds since 1970-01-01T00:00:00 in the patient's local (standard) time; it is
// written with that place's fixed UTC offset, e.g. "2021-03-04T09:15:00-05:00", which is an R4
// dateTime with a time zone (https://hl7.org/fhir/R4/datatypes.html#dateTime).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vesta::generate {

using Days = int64_t;  // days since 1970-01-01
using Time = int64_t;  // seconds since 1970-01-01T00:00:00 local time

inline constexpr Time kDay = 86400;

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

Days DaysFromCivil(int year, int month, int day);
CivilDate CivilFromDays(Days days);

// "YYYY-MM-DD".
std::string FormatDate(Days days);
// "YYYY-MM-DDThh:mm:ss" followed by `offset` ("-05:00", "Z").
std::string FormatDateTime(Time t, std::string_view offset);
// Parses "YYYY-MM-DD"; returns false when it is not a valid date.
bool ParseDate(std::string_view text, Days* out);

// Whole years between two days (the age on `on` of someone born on `birth`).
int YearsBetween(Days birth, Days on);

}  // namespace vesta::generate
