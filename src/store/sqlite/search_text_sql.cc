// The full-text conditions (_text, _content) as FTS5 match expressions (search_sql.h; docs/
// search.md, "Full-text search").
#include "search/text.h"
#include "store/sqlite/search_sql.h"

namespace vesta::store::sql {
namespace {

// FTS5 string literal: "..." with any '"' doubled (https://www.sqlite.org/fts5.html#fts5_strings).
void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string Fts5MatchExpression(const search::TextQuery& query, search::TextScope scope) {
  std::string expr;
  for (size_t g = 0; g < query.groups.size(); ++g) {
    const std::vector<search::TextTerm>& group = query.groups[g];
    if (g > 0) expr += " AND ";
    if (group.size() > 1) expr += "(";
    for (size_t k = 0; k < group.size(); ++k) {
      if (k > 0) expr += " OR ";
      // Control characters are not text; they must not reach FTS5's parser either.
      std::string text = group[k].text;
      for (char& ch : text) {
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = ' ';
      }
      AppendQuoted(text, &expr);
      if (group[k].prefix) expr += "*";
    }
    if (group.size() > 1) expr += ")";
  }
  if (scope == search::TextScope::kNarrative) return "narrative : (" + expr + ")";
  return expr;
}

Result<std::string> TextMatchExpression(std::string_view value, search::TextScope scope) {
  ASSIGN_OR_RETURN(search::TextQuery query, search::ParseTextQuery(value));
  return Fts5MatchExpression(query, scope);
}

}  // namespace vesta::store::sql
