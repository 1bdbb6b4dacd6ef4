// String normalisation for string search (https://hl7.org/fhir/R4/search.html#string): "the
// search is case-insensitive and accent-insensitive". Index rows and query values go through the
// same function, so a prefix match is a byte-range scan of an index.
#pragma once

#include <string>
#include <string_view>

namespace vesta::search {

// Lower-cases and removes accents from Latin letters (U+00C0..U+017F fold to their base
// letter; ß → ss, æ → ae, œ → oe); other characters are kept, whitespace runs become one space
// and the ends are trimmed. Malformed UTF-8 bytes are kept as they are.
std::string NormalizeString(std::string_view s);

// The smallest string greater than every string that starts with `prefix` (for the range
// `prefix <= x < PrefixEnd(prefix)`). Empty when there is none (every byte is 0xFF).
std::string PrefixEnd(std::string_view prefix);

}  // namespace vesta::search
