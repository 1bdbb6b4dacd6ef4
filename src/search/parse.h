// The syntax of search values shared by every parameter type (https://hl7.org/fhir/R4/search.html):
// the error every rejection uses, prefixes, numbers, `system|code` pairs, the quoted phrases of
// _text / _content, and the opaque `_cursor` of a page. Escapes (`\,` `\|` `\$` `\\`) are
// base/strings.h's SplitEscaped and UnescapeSearchValue.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "search/plan.h"

namespace vesta::search {

// kInvalid naming the parameter: "search parameter 'date': ...", with one OperationOutcome issue.
Status Bad(std::string_view name, const std::string& why);

// https://hl7.org/fhir/R4/search.html#prefix
enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

// The prefix that starts `*v` (removed from it), or kEq when there is none.
Prefix TakePrefix(std::string_view* v);

// A finite number written in full; false for anything else (also "nan", "inf").
bool ParseDouble(std::string_view s, double* out);
bool ParseI64(std::string_view s, int64_t* out);

// The range implied by a number's precision (https://hl7.org/fhir/R4/search.html#number:
// "100" means [99.5, 100.5)).
void ImplicitRange(std::string_view text, double v, double* lo, double* hi);

// Splits "system|code" at the first unescaped '|': the system unescaped, the code as written.
// nullopt when there is none.
std::optional<std::pair<std::string, std::string>> SplitBar(std::string_view s);

// A _text / _content value split at its commas (https://hl7.org/fhir/R4/search.html#escaping),
// except those inside a quoted phrase, which cannot separate alternatives:
// `"heart failure, chronic"` is one phrase. Escapes are kept for UnescapeSearchValue.
std::vector<std::string> SplitOutsideQuotes(std::string_view s);

// The `_cursor` value for the row after which the next page starts, and back. A cursor that
// this server did not make is kInvalid (the REST layer answers 400).
std::string EncodeCursor(const Cursor& cursor);
Result<Cursor> DecodeCursor(std::string_view text);

}  // namespace vesta::search
