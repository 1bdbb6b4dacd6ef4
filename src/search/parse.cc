// Search value syntax: https://hl7.org/fhir/R4/search.html#escaping, #prefix, #number
#include "search/parse.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/strings.h"

namespace vesta::search {

Status Bad(std::string_view name, const std::string& why) {
  const std::string message = "search parameter '" + std::string(name) + "': " + why;
  return Status(StatusCode::kInvalid, message, {Issue{Severity::kError, "invalid", message, ""}});
}

Prefix TakePrefix(std::string_view* v) {
  static const std::pair<std::string_view, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
      {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
      {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  if (v->size() > 2) {
    for (const auto& [text, p] : kPrefixes) {
      if (v->substr(0, 2) == text) {
        v->remove_prefix(2);
        return p;
      }
    }
  }
  return Prefix::kEq;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseI64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

void ImplicitRange(std::string_view text, double v, double* lo, double* hi) {
  size_t dot = text.find('.');
  size_t exp = text.find_first_of("eE");
  int decimals = 0;
  if (exp == std::string_view::npos && dot != std::string_view::npos) {
    decimals = static_cast<int>(text.size() - dot - 1);
  }
  double half = 0.5 * std::pow(10.0, -decimals);
  *lo = v - half;
  *hi = v + half;
}

std::optional<std::pair<std::string, std::string>> SplitBar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      return std::make_pair(UnescapeSearchValue(s.substr(0, i)), std::string(s.substr(i + 1)));
    }
  }
  return std::nullopt;
}

std::vector<std::string> SplitOutsideQuotes(std::string_view s) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s.substr(i, 2);
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// A cursor is its keys, each a tag (i: integer, d: real, s: hex of the text) and a value, then
// the row order, joined by '~'.
std::string EncodeCursor(const Cursor& cursor) {
  std::string out;
  for (const Value& k : cursor.keys) {
    if (const int64_t* i = std::get_if<int64_t>(&k)) {
      out += "i" + std::to_string(*i);
    } else if (const double* d = std::get_if<double>(&k)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      out += "d" + std::string(buf);
    } else {
      out += "s" + HexEncode(std::get<std::string>(k));
    }
    out += "~";
  }
  return out + std::to_string(cursor.seq);
}

Result<Cursor> DecodeCursor(std::string_view text) {
  std::vector<std::string> parts = SplitEscaped(text, '~');
  Status bad(StatusCode::kInvalid, "_cursor is not one this server made for this search");
  Cursor cursor;
  if (parts.empty()) return bad;  // the number of keys is checked once the search is planned
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.empty()) return bad;
    std::string_view body = p.substr(1);
    if (p[0] == 'i') {
      int64_t v = 0;
      if (!ParseI64(body, &v)) return bad;
      cursor.keys.emplace_back(v);
    } else if (p[0] == 'd') {
      double v = 0;
      if (body == "inf" || body == "-inf") {
        v = body == "inf" ? HUGE_VAL : -HUGE_VAL;
      } else if (!ParseDouble(body, &v)) {
        return bad;
      }
      cursor.keys.emplace_back(v);
    } else if (p[0] == 's') {
      std::optional<std::string> v = HexDecode(body);
      if (!v) return bad;
      cursor.keys.emplace_back(std::move(*v));
    } else {
      return bad;
    }
  }
  if (!ParseI64(parts.back(), &cursor.seq)) return bad;
  return cursor;
}

}  // namespace vesta::search
