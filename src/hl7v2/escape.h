// The delimiters of an ER7 (pipe-and-hat) message and the escape sequences that carry them in
// data.
//
//   Delimiters d;                                   // | ^ ~ \ & : the defaults
//   std::string text = Unescape("A\\T\\E", d);      // "A&E"
//   std::string raw = Escape("A&E", d);             // "A\\T\\E"
//
// HL7 v2.5.1 chapter 2, section 2.7 "Use of escape sequences in text fields" (the same table in
// 2.3 to 2.8; \P\ for the truncation character from 2.7 on):
// https://www.hl7.org/implement/standards/product_brief.cfm?product_id=144
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vesta::hl7v2 {

// The separators a message declares in MSH-1 (field) and MSH-2 (component, repetition, escape,
// subcomponent and, from v2.7 on, truncation, in that order). A '\0' member means "not declared":
// nothing is split on it (and, for `escape`, no escape sequence is decoded).
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = '\0';

  // The encoding characters as MSH-2 spells them: "^~\&", or "^~\&#" with a truncation character.
  std::string EncodingCharacters() const;
  // True when `c` is one of the declared delimiters (never for '\0').
  bool IsDelimiter(char c) const;
  bool operator==(const Delimiters&) const = default;
};

// `raw` with its escape sequences decoded:
//   \F\ \S\ \T\ \R\ \E\ \P\  the field, component, subcomponent, repetition, escape and
//                            truncation characters;
//   \Xhhhh..\                the bytes the pairs of hex digits spell;
//   \.br\                    a line break ("\n");
//   \H\ \N\                  start and end of highlighting: dropped;
// every other sequence (\Z..\, \C..\, \M..\, the other formatting commands of FT, a malformed
// \X..\, an unterminated sequence, one for an undeclared delimiter) is kept as written.
std::string Unescape(std::string_view raw, const Delimiters& d);

// `text` made safe to stand as one leaf value: every declared delimiter and the escape character
// replaced by its sequence (\F\ \S\ \R\ \E\ \T\ \P\), CR and LF by \X0D\ and \X0A\ (a segment
// terminator never appears inside a segment). Unescape(Escape(t, d), d) == t for every t when d
// declares an escape character.
std::string Escape(std::string_view text, const Delimiters& d);

}  // namespace vesta::hl7v2
