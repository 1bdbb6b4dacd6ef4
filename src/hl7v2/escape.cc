#include "hl7v2/escape.h"

#include <optional>

#include "base/strings.h"

namespace vesta::hl7v2 {

std::string Delimiters::EncodingCharacters() const {
  std::string out;
  for (char c : {component, repetition, escape, subcomponent, truncation}) {
    if (c == '\0') break;
    out.push_back(c);
  }
  return out;
}

bool Delimiters::IsDelimiter(char c) const {
  return c != '\0' && (c == field || c == component || c == repetition || c == escape ||
                       c == subcomponent || c == truncation);
}

namespace {

// The decoded form of the sequence `body` (the text between the two escape characters), or
// nullopt when it is to be kept as written.
std::optional<std::string> DecodeSequence(std::string_view body, const Delimiters& d) {
  if (body.size() == 1) {
    char c = '\0';
    switch (body[0]) {
      case 'F':
        c = d.field;
        break;
      case 'S':
        c = d.component;
        break;
      case 'T':
        c = d.subcomponent;
        break;
      case 'R':
        c = d.repetition;
        break;
      case 'E':
        c = d.escape;
        break;
      case 'P':
        c = d.truncation;
        break;
      case 'H':
      case 'N':
        return std::string();  // highlighting on / off: no place in plain text
      default:
        return std::nullopt;
    }
    if (c == '\0') return std::nullopt;
    return std::string(1, c);
  }
  if (body == ".br") return std::string("\n");
  if (body.size() >= 3 && body[0] == 'X') {
    return HexDecode(body.substr(1));  // nullopt for an odd count or a non-hex digit
  }
  return std::nullopt;
}

}  // namespace

std::string Unescape(std::string_view raw, const Delimiters& d) {
  if (d.escape == '\0' || raw.find(d.escape) == std::string_view::npos) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c != d.escape) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t end = raw.find(d.escape, i + 1);
    if (end == std::string_view::npos) {  // unterminated: the rest is data
      out.append(raw.substr(i));
      break;
    }
    std::string_view body = raw.substr(i + 1, end - i - 1);
    if (std::optional<std::string> decoded = DecodeSequence(body, d)) {
      out.append(*decoded);
      i = end + 1;
    } else if (body.empty()) {
      // Two escape characters in a row: keep the first, look at the second afresh.
      out.push_back(c);
      ++i;
    } else {
      out.append(raw.substr(i, end - i + 1));
      i = end + 1;
    }
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  const char e = d.escape;
  for (char c : text) {
    char code = '\0';
    if (c == '\0') {
      code = '\0';
    } else if (c == d.field) {
      code = 'F';
    } else if (c == d.component) {
      code = 'S';
    } else if (c == d.subcomponent) {
      code = 'T';
    } else if (c == d.repetition) {
      code = 'R';
    } else if (c == d.escape) {
      code = 'E';
    } else if (c == d.truncation) {
      code = 'P';
    }
    if (e == '\0') {
      // No escape character declared: a delimiter cannot be written; drop it rather than let it
      // split the value (there is nothing better a sender could do either).
      if (code == '\0' && c != '\r' && c != '\n') out.push_back(c);
      continue;
    }
    if (code != '\0') {
      out.push_back(e);
      out.push_back(code);
      out.push_back(e);
    } else if (c == '\r' || c == '\n') {
      out.push_back(e);
      out.append(c == '\r' ? "X0D" : "X0A");
      out.push_back(e);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace vesta::hl7v2
