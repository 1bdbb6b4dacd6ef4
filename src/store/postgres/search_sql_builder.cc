// The Sql builder of search_sql.h: placeholders typed by their values, numbered at the end, and
// array literals for the parameters that carry a list.
#include "store/postgres/search_sql.h"

#include <type_traits>

namespace vesta::store::pgsql {

Sql& Sql::Arg(SqlArg a) {
  std::string_view type = std::visit(
      [](const auto& v) -> std::string_view {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return "int8";
        } else if constexpr (std::is_same_v<T, double>) {
          return "float8";
        } else {
          return "text";
        }
      },
      a);
  text += "?::";
  text += type;
  args.push_back(std::move(a));
  return *this;
}

Sql& Sql::Arg(std::string value, std::string_view type) {
  text += "?::";
  text += type;
  args.push_back(std::move(value));
  return *this;
}

std::string Sql::Text() const {
  std::string out;
  out.reserve(text.size() + args.size() * 2);
  int n = 0;
  for (char c : text) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::string ArrayLiteral(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string ArrayLiteral(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

}  // namespace vesta::store::pgsql
