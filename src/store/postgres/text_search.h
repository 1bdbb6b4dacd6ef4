// Full-text search (_text, _content) on the PostgreSQL store: the words of a resource's text as a
// tsvector, and a parsed search value (search::TextQuery) as a tsquery, both written in
// PostgreSQL's input syntax by Vesta (https://www.postgresql.org/docs/15/datatype-textsearch.html)
// rather than by a text search configuration of the server. So the words do not depend on the
// database's locale or dictionaries, and they are the words the SQLite store's FTS5 tokenizer
// makes (schema/009_text.sql there: `unicode61 remove_diacritics 2`), as near as one rule can:
//
//   a word is a run of letters and digits (ASCII letters and digits, and every code point from
//   U+00C0 on except the multiplication and division signs and the punctuation and symbol
//   blocks U+2000-U+2BFF, U+3000-U+303F, U+FE30-U+FE4F, U+FF00-U+FF0F); everything else
//   separates words; each word is lower-cased and its Latin accents removed
//   (search::NormalizeString).
//
//   TsVector("Heart failure, chronic")  == "'chronic':3 'failure':2 'heart':1"
//   TsQuery({{{"heart failure"}}, {{"asth", prefix}}}) == "( 'heart' <-> 'failure' ) & ( 'asth':* )"
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "search/text.h"

namespace vesta::store::pgtext {

// The words of `text` in order, lower-cased and without accents.
std::vector<std::string> Words(std::string_view text);

// A tsvector of the words of `parts`, each part's positions after the previous part's with a gap,
// so that a phrase never spans two parts. PostgreSQL's limits are kept: positions above 16,383
// count as 16,383, a word keeps its first 256 positions, words longer than 2,047 bytes are left
// out, and the whole stays under 1 MB (later words are left out).
std::string TsVector(const std::vector<std::string_view>& parts);

// A tsquery: each group's terms OR-ed, the groups AND-ed; a term's words must follow each other
// (<->); a prefix term's last word matches as a prefix (:*). Empty when a group has no word at
// all (the query can match nothing).
std::string TsQuery(const search::TextQuery& query);

}  // namespace vesta::store::pgtext
