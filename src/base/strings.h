// Small text helpers shared by every layer, so that each idea has one spelling: trimming, ASCII
// case, hex and base64, percent-decoding, plain splitting, and the escapes of FHIR search values.
//
//   std::string_view v = Trim("  a b \r\n");                  // "a b"
//   if (EqualsIgnoreCase(name, "Content-Type")) ...
//   std::optional<std::string> bytes = HexDecode("6869");     // "hi"
//   for (const std::string& alt : SplitEscaped(value, ',')) {  // "a\,b|c,d" -> "a,b|c" | "d"
//     std::string code = UnescapeSearchValue(alt);             // "a,b|c"
//   }
//
// Everything here works on bytes: case folding and whitespace are ASCII only, whatever the
// locale, and UTF-8 sequences pass through untouched. All functions are pure and thread-safe.
// A returned std::string_view points into the argument and stays valid as long as it does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vesta {

// --- Whitespace and case ---

// Space, tab, CR and LF: the whitespace of JSON (RFC 8259 §2) and of the text files we load.
inline constexpr std::string_view kWhitespace = " \t\r\n";
// Space and tab: HTTP's optional whitespace around header values and list items
// (RFC 9110 §5.6.3).
inline constexpr std::string_view kHttpWhitespace = " \t";

// `s` without the leading and trailing characters that are in `chars`.
std::string_view Trim(std::string_view s, std::string_view chars = kWhitespace);
// `s` without the trailing characters that are in `chars`.
std::string_view TrimRight(std::string_view s, std::string_view chars = kWhitespace);

// 'A'..'Z' mapped to 'a'..'z'; every other byte unchanged.
char Lower(char c);
std::string Lower(std::string_view s);
// 'a'..'z' mapped to 'A'..'Z'; every other byte unchanged.
char Upper(char c);
std::string Upper(std::string_view s);
// True when `a` and `b` are equal but for ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// --- Splitting ---

// The pieces of `s` between each `separator`, empty pieces included: "a,,b" gives "a", "", "b"
// and "" gives one empty piece. Nothing is unescaped; for search values see SplitEscaped.
std::vector<std::string_view> Split(std::string_view s, char separator);
// The words of `s`: its runs of characters not in `blanks` (" a \tbc\n" gives "a", "bc"). At
// most `max_words` of them; the rest of `s` is ignored, so that untrusted input bounds the work.
std::vector<std::string_view> SplitWords(std::string_view s, size_t max_words,
                                         std::string_view blanks = kWhitespace);

// --- Numbers ---

// Reads the `n` ASCII digits at s[*i] as a decimal number into *out and advances *i past them
// (the fixed-width fields of dates and times: "2024-01-05" is 4, 2 and 2 digits). False, with
// *i and *out unchanged, when fewer than `n` digits stand there. REQUIRES: 0 < n <= 9.
bool ConsumeDigits(std::string_view s, size_t* i, int n, int* out);

// --- Hex ---

// The value of one hex digit (either case), or -1 when `c` is not one.
int HexDigitValue(char c);
// Two lower-case hex digits per byte: "hi" -> "6869".
std::string HexEncode(std::string_view bytes);
// The bytes that `hex` spells, two digits (either case) per byte. nullopt when its length is
// odd or it holds anything but hex digits.
std::optional<std::string> HexDecode(std::string_view hex);

// --- Base64 (RFC 4648) ---

enum class Base64Alphabet {
  kStandard,  // §4: '+' and '/' (FHIR's base64Binary, FHIRPath encode('base64'))
  kUrlSafe,   // §5: '-' and '_' (FHIRPath encode('urlbase64'))
};

// `bytes` in base64, padded with '=' to a multiple of four characters.
std::string Base64Encode(std::string_view bytes,
                         Base64Alphabet alphabet = Base64Alphabet::kStandard);
// The bytes that `text` encodes in `alphabet`. Whitespace (kWhitespace) is skipped wherever it
// stands, as FHIR's base64Binary allows line breaks; '=' padding is optional and ends the data
// (only '=' and whitespace may follow it). Bits left over after the last whole byte are dropped.
// nullopt on any other character, including the other alphabet's two.
std::optional<std::string> Base64Decode(std::string_view text,
                                        Base64Alphabet alphabet = Base64Alphabet::kStandard);

// --- Percent-encoding (RFC 3986 §2.1) ---

enum class PlusIs { kPlus, kSpace };

// Appends to `out` the bytes that `in` encodes with %XX escapes (either case). With
// PlusIs::kSpace a '+' is a space, as in application/x-www-form-urlencoded query strings.
// Returns false, with `out` holding a partial result, on a '%' not followed by two hex digits.
[[nodiscard]] bool PercentDecode(std::string_view in, PlusIs plus, std::string* out);

// `s` with every byte but the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) and those of
// `also_safe` written as %XX (upper-case hex).
std::string PercentEncode(std::string_view s, std::string_view also_safe = {});

// An application/x-www-form-urlencoded string (a URL's query, a form body): "a=1&b=x%20y" as
// decoded pairs in order, repeats kept ('+' is a space; a name without '=' has an empty value;
// empty pieces are skipped). nullopt on a bad %-escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseFormPairs(
    std::string_view form);

// --- HTML ---

// `s` with & < > " and ' written as entities, for HTML text and quoted attribute values.
std::string HtmlEscape(std::string_view s);

// --- UTF-8 (RFC 3629) ---

// Appends the UTF-8 encoding of the code point `cp` (REQUIRES: cp <= 0x10FFFF; surrogates are
// the caller's to refuse).
void AppendUtf8(uint32_t cp, std::string* out);
// The code point that starts at s[*i], advancing *i past it. A malformed or truncated sequence
// gives U+FFFD and advances one byte. REQUIRES: *i < s.size().
uint32_t NextCodePoint(std::string_view s, size_t* i);

// --- FHIR search values (https://hl7.org/fhir/R4/search.html#escaping) ---
//
// In a search value `,` separates alternatives, `|` a system from a code, `$` the parts of a
// composite, and each of them (and `\` itself) is taken literally when escaped with `\`.

// Splits `value` at each `separator` not escaped with `\`. The escapes of `separator` are
// removed; the other escapes (`\,` `\|` `\$` `\\`) are kept, so that a piece can be split again
// at another separator and then unescaped with UnescapeSearchValue. A `\` before any other
// character is kept as it is. Always at least one piece: "" gives one empty piece.
//   SplitEscaped("a\,b,c|d", ',') -> "a,b", "c|d"
//   SplitEscaped("a\|b|c\,d", '|') -> "a|b", "c\,d"
//   SplitEscaped("x\\,y", ',')      -> "x\\", "y"
std::vector<std::string> SplitEscaped(std::string_view value, char separator);

// `value` with each `\` removed and the character after it taken literally (`\\` gives `\`).
// A `\` at the very end is kept.
std::string UnescapeSearchValue(std::string_view value);

// `text` (a code, a system, ...) as a search value: `\` `,` `|` and `$` escaped with `\`.
// UnescapeSearchValue(EscapeSearchValue(s)) == s.
std::string EscapeSearchValue(std::string_view text);

}  // namespace vesta
