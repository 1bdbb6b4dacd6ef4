#include "store/postgres/text_search.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "base/strings.h"
#include "search/normalize.h"

namespace vesta::store::pgtext {
namespace {

constexpr int kMaxPosition = 16383;           // a tsvector position's largest value
constexpr size_t kMaxPositionsPerWord = 256;  // PostgreSQL keeps no more per lexeme
constexpr size_t kMaxWordBytes = 2047;        // a lexeme's limit
constexpr size_t kMaxVectorBytes = 900 * 1024;  // under the 1 MB limit of a tsvector
constexpr int kPartGap = 8;                   // positions between two parts

bool IsWordCodePoint(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  if (cp == 0xAA || cp == 0xB5 || cp == 0xBA) return true;  // ª µ º
  if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7 || cp == 0xFFFD) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, shapes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;  // CJK compatibility forms
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // fullwidth punctuation
  return true;
}

// A lexeme in tsvector / tsquery input syntax: quoted, with ' and \ escaped.
void AppendLexeme(std::string_view word, std::string* out) {
  out->push_back('\'');
  for (char c : word) {
    if (c == '\'' || c == '\\') out->push_back(c == '\'' ? '\'' : '\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

}  // namespace

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string folded = search::NormalizeString(word);
    if (!folded.empty()) words.push_back(std::move(folded));
    word.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const uint32_t cp = NextCodePoint(text, &i);
    if (IsWordCodePoint(cp)) {
      word.append(text.substr(start, i - start));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string TsVector(const std::vector<std::string_view>& parts) {
  std::map<std::string, std::vector<int>> positions;
  size_t bytes = 0;
  int position = 0;
  for (std::string_view part : parts) {
    for (std::string& w : Words(part)) {
      position = std::min(position + 1, kMaxPosition);
      if (w.size() > kMaxWordBytes) continue;
      auto [it, added] = positions.try_emplace(std::move(w));
      if (added) {
        bytes += it->first.size() + 4;
        if (bytes > kMaxVectorBytes) {
          positions.erase(it);
          break;
        }
      }
      if (it->second.size() < kMaxPositionsPerWord &&
          (it->second.empty() || it->second.back() != position)) {
        it->second.push_back(position);
        bytes += 6;
      }
    }
    position = std::min(position + kPartGap, kMaxPosition);
  }
  std::string out;
  for (const auto& [word, at] : positions) {
    if (!out.empty()) out.push_back(' ');
    AppendLexeme(word, &out);
    for (size_t k = 0; k < at.size(); ++k) {
      out.push_back(k == 0 ? ':' : ',');
      out += std::to_string(at[k]);
    }
  }
  return out;
}

std::string TsQuery(const search::TextQuery& query) {
  std::string out;
  for (const std::vector<search::TextTerm>& group : query.groups) {
    std::string alternatives;
    for (const search::TextTerm& term : group) {
      const std::vector<std::string> words = Words(term.text);
      if (words.empty()) continue;
      if (!alternatives.empty()) alternatives += " | ";
      alternatives += "( ";
      for (size_t k = 0; k < words.size(); ++k) {
        if (k > 0) alternatives += " <-> ";
        AppendLexeme(words[k], &alternatives);
        if (term.prefix && k + 1 == words.size()) alternatives += ":*";
      }
      alternatives += " )";
    }
    if (alternatives.empty()) return "";
    if (!out.empty()) out += " & ";
    out += "( " + alternatives + " )";
  }
  return out;
}

}  // namespace vesta::store::pgtext
