// String functions: http://hl7.org/fhirpath/N1/#string-manipulation and the later additions
// (trim, split, join, encode/decode, escape/unescape, matchesFull, lastIndexOf:
// https://build.fhir.org/ig/HL7/FHIRPath/#string-manipulation).
#include "base/strings.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "fhir/fhirpath/functions/call.h"

namespace vesta::fhirpath::internal {

namespace {

// --- String encodings ---

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in, bool url) {
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size() + 2 && i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kB64[v & 63] : '=';
    i += 3;
  }
  if (url) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+' || c == '-')
      d = 62;
    else if (c == '/' || c == '_')
      d = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Hex(std::string_view in) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : in) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view in) {
  if (in.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 2) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(in[i + k])));
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return out;
}

std::string HtmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string_view::npos) {
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        const char* rep = ent == "lt"                     ? "<"
                          : ent == "gt"                   ? ">"
                          : ent == "amp"                  ? "&"
                          : ent == "quot"                 ? "\""
                          : ent == "#39" || ent == "apos" ? "'"
                                                          : nullptr;
        if (rep != nullptr) {
          out += rep;
          i = semi;
          continue;
        }
      }
    }
    out += s[i];
  }
  return out;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string JsonUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char e = s[++i];
      out += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
    } else {
      out += s[i];
    }
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// The byte offset of character `index` (counted in code points) of `s`; s.size() when `s` has
// no more than `index` characters.
size_t Utf8Offset(std::string_view s, int64_t index) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (n++ == index) return i;
  }
  return s.size();
}

// std::regex backtracks and has no step limit, so some patterns take exponential time. Refuse the
// usual culprits: a quantifier applied to a quantifier (a*+), and an unbounded quantifier (*, +,
// {n,}) applied to a group that itself holds one, like (a+)+. Bounded forms such as ([0-9]{3})?
// stay allowed. (A linear-time engine such as RE2 would lift this limit.) Returns false when `re`
// is refused.
bool SafePattern(std::string_view re) {
  struct Group {
    bool unbounded = false;
  };
  std::vector<Group> groups(1);
  bool prev_quantifier = false;   // the previous token was a quantifier
  bool prev_risky_group = false;  // it closed a group holding an unbounded quantifier
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\') {
      ++i;
      prev_quantifier = prev_risky_group = false;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '?' && prev_quantifier) {  // a lazy modifier
      prev_quantifier = false;
      continue;
    }
    if (c == '*' || c == '+' || c == '{' || c == '?') {
      if (prev_quantifier) return false;
      bool unbounded = c == '*' || c == '+';
      if (c == '{') {
        size_t end = re.find('}', i);
        if (end == std::string_view::npos) return false;
        std::string_view body = re.substr(i + 1, end - i - 1);
        unbounded = !body.empty() && body.back() == ',';
        i = end;
      }
      if (unbounded && prev_risky_group) return false;
      if (unbounded) groups.back().unbounded = true;
      prev_quantifier = true;
      prev_risky_group = false;
      continue;
    }
    prev_quantifier = prev_risky_group = false;
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      groups.emplace_back();
    } else if (c == ')' && groups.size() > 1) {
      Group g = groups.back();
      groups.pop_back();
      prev_risky_group = g.unbounded;
      groups.back().unbounded = groups.back().unbounded || g.unbounded;
    }
  }
  return true;
}

// FHIRPath regular expressions run in single-line mode: '.' also matches newlines
// (http://hl7.org/fhirpath/N1/#matchesregex-string-boolean).
std::string DotAll(std::string_view re) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      out += c;
      out += re[++i];
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (c == '.' && !in_class) {
      out += "[\\s\\S]";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

// The string functions.
Result<Collection> CallString(FunctionCall& c) {
  const Node& n = c.n;
  Items input = c.input;
  (void)input;
  switch (n.fn) {
    // --- Strings: http://hl7.org/fhirpath/N1/#string-manipulation ---
    case Fn::kIndexOf:
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kContainsFn:
    case Fn::kSubstring:
    case Fn::kUpper:
    case Fn::kLower:
    case Fn::kReplace:
    case Fn::kMatches:
    case Fn::kMatchesFull:
    case Fn::kReplaceMatches:
    case Fn::kLength:
    case Fn::kToChars:
    case Fn::kTrim:
    case Fn::kSplit:
    case Fn::kEncode:
    case Fn::kDecode:
    case Fn::kEscape:
    case Fn::kUnescape:
    case Fn::kLastIndexOf: {
      std::string_view s;
      ASSIGN_OR_RETURN(bool has, c.StringInput(&s));
      if (!has) return Collection{};
      std::string a, b;
      switch (n.fn) {
        // http://hl7.org/fhirpath/N1/#indexofsubstring-string-integer and
        // https://build.fhir.org/ig/HL7/FHIRPath/#lastindexofsubstring--string--integer (STU):
        // the index "is measured in characters (Unicode scalar values)"; lastIndexOf('') is the
        // length of the string.
        case Fn::kIndexOf:
        case Fn::kLastIndexOf: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          const size_t p = n.fn == Fn::kIndexOf ? s.find(a) : s.rfind(a);
          if (p == std::string::npos) return Collection{Item::Integer(-1)};
          return Collection{Item::Integer(static_cast<int64_t>(Utf8Length(s.substr(0, p))))};
        }
        case Fn::kStartsWith:
        case Fn::kEndsWith:
        case Fn::kContainsFn: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kStartsWith) return Bool(s.compare(0, a.size(), a) == 0);
          if (n.fn == Fn::kEndsWith) {
            return Bool(s.size() >= a.size() && s.compare(s.size() - a.size(), a.size(), a) == 0);
          }
          return Bool(s.find(a) != std::string::npos);
        }
        case Fn::kSubstring: {
          int64_t start, len = INT64_MAX;
          ASSIGN_OR_RETURN(bool hs, c.IntArg(0, &start));
          if (!hs) return Collection{};
          if (n.args.size() > 1) {
            ASSIGN_OR_RETURN(bool hl, c.IntArg(1, &len));
            if (!hl) len = INT64_MAX;
          }
          // http://hl7.org/fhirpath/N1/#substringstart-integer-length-integer-string: start and
          // length count characters, as length() and indexOf() do.
          const int64_t size = static_cast<int64_t>(Utf8Length(s));
          if (start < 0 || start >= size) return Collection{};
          if (len < 0) len = 0;
          const size_t begin = Utf8Offset(s, start);
          const size_t end = len >= size - start ? s.size() : Utf8Offset(s, start + len);
          return Collection{Item::String(std::string(s.substr(begin, end - begin)))};
        }
        case Fn::kUpper:
        case Fn::kLower: {
          std::string out(s);
          for (char& c : out) {
            c = static_cast<char>(n.fn == Fn::kUpper ? std::toupper(static_cast<unsigned char>(c))
                                                     : std::tolower(static_cast<unsigned char>(c)));
          }
          return Collection{Item::String(out)};
        }
        case Fn::kReplace: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          ASSIGN_OR_RETURN(bool hb, c.StringArg(1, &b));
          if (!ha || !hb) return Collection{};
          std::string out;
          if (a.empty()) {
            // Inserts the substitution around every character.
            out = b;
            for (char c : s) {
              out += c;
              out += b;
            }
            return Collection{Item::String(out)};
          }
          size_t pos = 0;
          while (true) {
            size_t k = s.find(a, pos);
            if (k == std::string::npos) break;
            out += s.substr(pos, k - pos);
            out += b;
            pos = k + a.size();
          }
          out += s.substr(pos);
          return Collection{Item::String(out)};
        }
        case Fn::kMatches:
        case Fn::kMatchesFull:
        case Fn::kReplaceMatches: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kReplaceMatches) {
            ASSIGN_OR_RETURN(bool hb, c.StringArg(1, &b));
            if (!hb) return Collection{};
          }
          // std::regex matches recursively: bound the work an expression can ask for.
          if (a.size() > 1000 || s.size() > 5000) {
            return c.Error(n.name + "(): pattern or string too long for a regular expression");
          }
          if (!SafePattern(a)) {
            return c.Error(n.name + "(): nested or stacked quantifiers are not supported in '" + a +
                           "'");
          }
          // https://build.fhir.org/ig/HL7/FHIRPath/#matchesregex--string-flags--string--boolean:
          // the optional flags are `i` (case-insensitive) and `m` (^ and $ match at each line);
          // "the flags parameter contains invalid values" is an error.
          auto syntax = std::regex::ECMAScript;
          bool multiline = false;
          const size_t flags_arg = n.fn == Fn::kReplaceMatches ? 2 : 1;
          if (n.args.size() > flags_arg) {
            std::string flags;
            ASSIGN_OR_RETURN(bool hf, c.StringArg(flags_arg, &flags));
            (void)hf;
            for (char fl : flags) {
              if (fl == 'i') {
                syntax |= std::regex::icase;
              } else if (fl == 'm') {
                syntax |= std::regex::multiline;
                multiline = true;
              } else {
                return c.Error(n.name + "(): unknown flag '" + std::string(1, fl) + "'");
              }
            }
          }
          if (n.fn == Fn::kReplaceMatches && a.empty()) {
            return Collection{Item::String(std::string(s))};
          }
          // std::regex reports bad patterns by exception: it stops here.
          try {
            if (n.fn == Fn::kMatchesFull && multiline) {
              // The whole of one line: the pattern anchored at line ends.
              std::regex re("^(?:" + DotAll(a) + ")$", syntax);
              return Bool(std::regex_search(s.begin(), s.end(), re));
            }
            std::regex re(DotAll(a), syntax);
            if (n.fn == Fn::kMatches) return Bool(std::regex_search(s.begin(), s.end(), re));
            if (n.fn == Fn::kMatchesFull) return Bool(std::regex_match(s.begin(), s.end(), re));
            return Collection{Item::String(std::regex_replace(std::string(s), re, b))};
          } catch (const std::exception&) {
            return c.Error("bad regular expression '" + a + "'");
          }
        }
        case Fn::kLength:
          return Collection{Item::Integer(static_cast<int64_t>(Utf8Length(s)))};
        case Fn::kToChars: {
          Collection out;
          for (size_t i = 0; i < s.size();) {
            size_t len = 1;
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c >= 0xF0)
              len = 4;
            else if (c >= 0xE0)
              len = 3;
            else if (c >= 0xC0)
              len = 2;
            out.push_back(Item::String(std::string(s.substr(i, len))));
            i += len;
          }
          return out;
        }
        case Fn::kTrim: {
          size_t st = s.find_first_not_of(" \t\r\n");
          if (st == std::string::npos) return Collection{Item::String("")};
          size_t en = s.find_last_not_of(" \t\r\n");
          return Collection{Item::String(std::string(s.substr(st, en - st + 1)))};
        }
        case Fn::kSplit: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          Collection out;
          if (a.empty()) {
            for (char c : s) out.push_back(Item::String(std::string(1, c)));
            return out;
          }
          size_t pos = 0;
          while (true) {
            size_t k = s.find(a, pos);
            out.push_back(
                Item::String(std::string(s.substr(pos, k == std::string::npos ? k : k - pos))));
            if (k == std::string::npos) break;
            pos = k + a.size();
          }
          return out;
        }
        case Fn::kEncode:
        case Fn::kDecode: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kEncode) {
            if (a == "base64") return Collection{Item::String(Base64(s, false))};
            if (a == "urlbase64") return Collection{Item::String(Base64(s, true))};
            if (a == "hex") return Collection{Item::String(Hex(s))};
            return Collection{};
          }
          std::optional<std::string> r;
          if (a == "base64" || a == "urlbase64") r = Unbase64(s);
          if (a == "hex") r = Unhex(s);
          if (!r) return Collection{};
          return Collection{Item::String(*r)};
        }
        case Fn::kEscape:
        case Fn::kUnescape: {
          ASSIGN_OR_RETURN(bool ha, c.StringArg(0, &a));
          if (!ha) return Collection{};
          if (a == "html") {
            return Collection{Item::String(n.fn == Fn::kEscape ? HtmlEscape(s) : HtmlUnescape(s))};
          }
          if (a == "json") {
            return Collection{Item::String(n.fn == Fn::kEscape ? JsonEscape(s) : JsonUnescape(s))};
          }
          return Collection{};
        }
        default:
          break;
      }
      return Collection{};
    }
    case Fn::kJoin: {
      // https://build.fhir.org/ig/HL7/FHIRPath/#joinseparator-string-string: "If the input
      // collection is empty, the result is empty." Primitives without a value are skipped.
      std::string sep;
      if (!n.args.empty()) {
        ASSIGN_OR_RETURN(bool hs, c.StringArg(0, &sep));
        (void)hs;
      }
      std::string out;
      bool any = false;
      for (const Item& item : input) {
        if (ValueLess(item)) continue;
        std::string_view s;
        if (!StringOf(item, &s)) return c.Error("join() needs strings");
        if (any) out += sep;
        out += s;
        any = true;
      }
      if (!any) return Collection{};
      return Collection{Item::String(out)};
    }

    default:
      break;
  }
  return c.Error(n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
