// Full-text search: the `_text` and `_content` parameters
// (https://hl7.org/fhir/R4/search.html#text, "Text Search Parameters"):
//
//   "The _text parameter ... performs a search against the narrative of the resource"
//   "The _content parameter ... searches the entire content of the resource"
//
// Both sides live here: what a resource contributes to the full-text index (its narrative as
// plain text, and the rest of its text values), and a search value parsed into words, phrases,
// prefixes, AND and OR (TextQuery), which a backend renders in its own full-text syntax.
//
//   search::TextRow row = search::ExtractText(doc.root());   // on the writer's caller thread
//   ASSIGN_OR_RETURN(search::TextQuery q, search::ParseTextQuery("\"heart failure\" OR asthma"));
//   // q.groups == {{{"heart failure"}, {"asthma"}}}
//
// docs/search.md describes the accepted syntax.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::search {

// Whether `code` is one of the two full-text parameters, _text (on DomainResource types) and
// _content (on every type).
inline bool IsTextSearchParam(std::string_view code) {
  return code == "_text" || code == "_content";
}

// What one resource puts in the full-text index.
struct TextRow {
  // text.div of the resource without its markup (NarrativeText); "" when it has none.
  std::string narrative;
  // Every other text value of the resource, one per line, each distinct value once: primitives
  // of type string, markdown and code (element ids, Reference.reference, uris, dates, numbers
  // and binary data left out, and extensions whose url starts with kServerExtensionPrefix), the
  // narratives of contained resources as plain text.
  std::string content;

  bool empty() const { return narrative.empty() && content.empty(); }
};

// The url prefix of the extensions Vesta defines itself, whose values are not indexed (see
// ExtractText).
inline constexpr std::string_view kServerExtensionPrefix = "urn:vesta:";

// Each column is cut (at a character boundary) after this many bytes: the words after it are
// not searchable. It bounds the tokenizing the single writer thread does for one resource.
inline constexpr size_t kMaxTextColumnBytes = 1 << 20;

// The plain text of an XHTML fragment such as a Narrative's div
// (https://hl7.org/fhir/R4/narrative.html#xhtml): tags, comments and processing instructions
// removed, attribute values dropped, the content of <script> and <style> dropped, character
// references (&#233; &#xE9;) and named entities (the XML five and HTML's Latin-1 and common
// typographic ones) decoded, unknown entities kept as written. Tags other than inline phrase
// tags (<b>, <span>, <a>...) separate words. Whitespace runs become one space. Never fails:
// malformed markup is read leniently.
std::string NarrativeText(std::string_view xhtml);

// REQUIRES: `resource` is a resource's JSON object with resourceType. Unknown elements are
// skipped; the R4 model (fhir::Model::R4()) tells the type of every element.
TextRow ExtractText(const json::Value& resource);

enum class TextScope {
  kNarrative,  // _text: the `narrative` column only
  kContent,    // _content: both columns
};

// A _text / _content value (one comma-separated alternative, already unescaped), parsed:
// groups of OR-ed terms, the groups AND-ed. Accepted syntax:
//   words          every word must occur (AND); `AND` between two terms is allowed and changes
//                  nothing
//   "a phrase"     the words in this order, next to each other
//   a OR b         either term; binds tighter than the implicit AND: `x a OR b` is x AND (a OR b)
//   word*          prefix: any word starting with these letters (at least 2 letters or digits);
//                  also "a phrase"* (the last word is a prefix)
// Matching is case-insensitive and accent-insensitive (the index's tokenizer folds both). Any
// other character ( ( ) : ^ + - NEAR ...) is not syntax: it separates words inside a term, as it
// does in the indexed text. Terms made only of punctuation are dropped, as the tokenizer drops
// punctuation from the indexed text.
// kInvalid (without the parameter's name: the caller adds it) for an unterminated quote, an OR or
// AND without a term on each side, a too-short prefix, nothing to search for, more than
// kMaxTextTerms terms or a value longer than kMaxTextQueryBytes.
inline constexpr int kMaxTextTerms = 32;
inline constexpr size_t kMaxTextQueryBytes = 1024;

struct TextTerm {
  std::string text;  // a word or a phrase, as written
  bool prefix = false;
  bool operator==(const TextTerm&) const = default;
};

struct TextQuery {
  std::vector<std::vector<TextTerm>> groups;  // each non-empty
  bool operator==(const TextQuery&) const = default;
};

Result<TextQuery> ParseTextQuery(std::string_view value);

// A backend renders a TextQuery in its own full-text syntax: the SQLite store as an FTS5 MATCH
// expression (store/sqlite/search_sql.h, Fts5MatchExpression).

}  // namespace vesta::search
