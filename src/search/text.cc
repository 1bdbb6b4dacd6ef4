// _text and _content: https://hl7.org/fhir/R4/search.html#text
#include "search/text.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/strings.h"
#include "fhir/model/model.h"

namespace vesta::search {
namespace {

// ---- UTF-8 (AppendUtf8 and NextCodePoint: base/strings.h) -------------------------------------

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

// Whether the FTS5 `unicode61` tokenizer keeps this code point as part of a word (letters,
// digits; approximated: ASCII letters and digits, and non-ASCII outside the common punctuation
// and symbol blocks).
bool IsWordChar(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  if (cp <= 0xBF) {
    // Latin-1 punctuation and symbols, except ª ² ³ µ ¹ º ¼ ½ ¾ (letters and numbers).
    return cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
           (cp >= 0xBC && cp <= 0xBE);
  }
  if (cp == 0xD7 || cp == 0xF7) return false;      // × ÷
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, arrows, math, shapes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;  // CJK compatibility forms
  if (cp >= 0xFF01 && cp <= 0xFF0F) return false;  // full-width punctuation
  if (cp == 0xFFFD || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  return true;
}

int CountWordChars(std::string_view s) {
  int n = 0;
  for (size_t i = 0; i < s.size();) n += IsWordChar(NextCodePoint(s, &i)) ? 1 : 0;
  return n;
}

// ---- Narrative ---------------------------------------------------------------------------------

// HTML's named character references that narratives use in practice: Latin-1 (U+00A0..U+00FF in
// order), the XML five, Greek letters and common typography.
const std::unordered_map<std::string_view, uint32_t>& NamedEntities() {
  static const auto* table = [] {
    auto* m = new std::unordered_map<std::string_view, uint32_t>();
    static constexpr std::string_view kLatin1[] = {
        "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
        "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
        "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
        "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
        "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
        "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
        "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
        "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
        "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
        "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
        "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml"};
    for (size_t i = 0; i < std::size(kLatin1); ++i) (*m)[kLatin1[i]] = 0xA0 + i;
    static constexpr std::pair<std::string_view, uint32_t> kOthers[] = {
        {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
        {"apos", '\''},     {"OElig", 0x152},   {"oelig", 0x153},   {"Scaron", 0x160},
        {"scaron", 0x161},  {"Yuml", 0x178},    {"fnof", 0x192},    {"circ", 0x2C6},
        {"tilde", 0x2DC},   {"Alpha", 0x391},   {"Beta", 0x392},    {"Gamma", 0x393},
        {"Delta", 0x394},   {"Epsilon", 0x395}, {"Zeta", 0x396},    {"Eta", 0x397},
        {"Theta", 0x398},   {"Iota", 0x399},    {"Kappa", 0x39A},   {"Lambda", 0x39B},
        {"Mu", 0x39C},      {"Nu", 0x39D},      {"Xi", 0x39E},      {"Omicron", 0x39F},
        {"Pi", 0x3A0},      {"Rho", 0x3A1},     {"Sigma", 0x3A3},   {"Tau", 0x3A4},
        {"Upsilon", 0x3A5}, {"Phi", 0x3A6},     {"Chi", 0x3A7},     {"Psi", 0x3A8},
        {"Omega", 0x3A9},   {"alpha", 0x3B1},   {"beta", 0x3B2},    {"gamma", 0x3B3},
        {"delta", 0x3B4},   {"epsilon", 0x3B5}, {"zeta", 0x3B6},    {"eta", 0x3B7},
        {"theta", 0x3B8},   {"iota", 0x3B9},    {"kappa", 0x3BA},   {"lambda", 0x3BB},
        {"mu", 0x3BC},      {"nu", 0x3BD},      {"xi", 0x3BE},      {"omicron", 0x3BF},
        {"pi", 0x3C0},      {"rho", 0x3C1},     {"sigmaf", 0x3C2},  {"sigma", 0x3C3},
        {"tau", 0x3C4},     {"upsilon", 0x3C5}, {"phi", 0x3C6},     {"chi", 0x3C7},
        {"psi", 0x3C8},     {"omega", 0x3C9},   {"ensp", 0x2002},   {"emsp", 0x2003},
        {"thinsp", 0x2009}, {"zwnj", 0x200C},   {"zwj", 0x200D},    {"lrm", 0x200E},
        {"rlm", 0x200F},    {"ndash", 0x2013},  {"mdash", 0x2014},  {"lsquo", 0x2018},
        {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
        {"bdquo", 0x201E},  {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022},
        {"hellip", 0x2026}, {"permil", 0x2030}, {"prime", 0x2032},  {"Prime", 0x2033},
        {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"euro", 0x20AC},   {"trade", 0x2122},
        {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},   {"darr", 0x2193},
        {"harr", 0x2194},   {"minus", 0x2212},  {"infin", 0x221E},  {"asymp", 0x2248},
        {"ne", 0x2260},     {"le", 0x2264},     {"ge", 0x2265}};
    for (const auto& [name, cp] : kOthers) (*m)[name] = cp;
    return m;
  }();
  return *table;
}

// Decodes the character reference starting at s[*i] == '&' into *out and advances past it;
// false (nothing consumed) when it is not one.
bool DecodeEntity(std::string_view s, size_t* i, std::string* out) {
  size_t semi = s.find(';', *i + 1);
  if (semi == std::string_view::npos || semi - *i > 32 || semi == *i + 1) return false;
  std::string_view name = s.substr(*i + 1, semi - *i - 1);
  uint32_t cp = 0;
  if (name[0] == '#') {
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return false;
    for (char c : digits) {
      int d = c >= '0' && c <= '9'          ? c - '0'
              : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                            : -1;
      if (d < 0) return false;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  } else {
    auto it = NamedEntities().find(name);
    if (it == NamedEntities().end()) return false;
    cp = it->second;
  }
  AppendUtf8(cp, out);
  *i = semi + 1;
  return true;
}

// Phrase-level tags: they do not separate words (`<b>Hel</b>lo` reads "Hello").
bool IsInlineTag(std::string_view name) {
  static constexpr std::string_view kInline[] = {
      "a",    "abbr",   "acronym", "b",   "bdi", "bdo",  "big",  "cite", "code", "data", "del",
      "dfn",  "em",     "font",    "i",   "ins", "kbd",  "mark", "q",    "s",    "samp", "small",
      "span", "strike", "strong",  "sub", "sup", "time", "tt",   "u",    "var",  "wbr"};
  return std::find(std::begin(kInline), std::end(kInline), name) != std::end(kInline);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == ':' || c == '.';
}

// Position after the '>' that ends the tag starting at s[i] == '<' (quoted attribute values
// may hold '>'); s.size() when it never ends.
size_t TagEnd(std::string_view s, size_t i) {
  char quote = 0;
  for (size_t k = i + 1; k < s.size(); ++k) {
    if (quote != 0) {
      if (s[k] == quote) quote = 0;
    } else if (s[k] == '"' || s[k] == '\'') {
      quote = s[k];
    } else if (s[k] == '>') {
      return k + 1;
    }
  }
  return s.size();
}

// Appends `text` to `out` with whitespace runs collapsed to one space (none at the start).
void AppendCollapsed(std::string_view text, std::string* out) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      if (!out->empty() && out->back() != ' ') out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
}

// ---- Content -----------------------------------------------------------------------------------

class ContentWalker {
 public:
  explicit ContentWalker(const fhir::Model& model) : model_(model) {}

  // Walks a resource; at the top level its own text.div goes to `narrative`.
  void Resource(const json::Value& resource, bool top, TextRow* row) {
    const fhir::StructInfo* s = model_.FindStruct(resource.FindString("resourceType"));
    if (s == nullptr || s->kind != fhir::TypeKind::kResource) return;
    if (top) {
      if (const json::Value* text = resource.Find("text")) {
        if (const json::Value* div = text->Find("div"); div != nullptr && div->is_string()) {
          row->narrative = NarrativeText(div->string_value());
          TruncateUtf8(&row->narrative, kMaxTextColumnBytes);
        }
      }
    }
    Struct(*s, resource, top, row);
  }

 private:
  void Struct(const fhir::StructInfo& s, const json::Value& object, bool top_resource,
              TextRow* row) {
    if (!object.is_object()) return;
    // Extensions Vesta defines itself (url urn:vesta:...) are the server's bookkeeping, not text
    // anyone wrote for the resource: the HL7 v2 feed's message records (the raw message, the ACK
    // it was answered with, a dead letter's reason; docs/hl7v2.md). They are read by id, tag and
    // identifier, and the raw message is personal data the retention removes; tokenizing it
    // would cost every received message more than the mapped resources' own words.
    if (s.name == "Extension" && object.FindString("url").starts_with(kServerExtensionPrefix)) {
      return;
    }
    for (const json::Member& m : object.members()) {
      // Element ids and Resource.id are identifiers, not text; "_name" holds a primitive's id
      // and extensions.
      if (m.key == "id" || m.key == "resourceType" || m.key.empty() || m.key[0] == '_') continue;
      if (top_resource && m.key == "text") continue;  // the narrative column has it
      fhir::ElementMatch match = s.Match(m.key);
      if (match.element == nullptr || match.type == nullptr) continue;
      if (s.name == "Reference" && m.key == "reference") continue;  // a pointer, not text
      if (m.value.is_array()) {
        for (const json::Value& item : m.value.items()) Value(*match.type, item, row);
      } else {
        Value(*match.type, m.value, row);
      }
    }
  }

  void Value(const fhir::TypeRef& type, const json::Value& v, TextRow* row) {
    if (full_) return;
    const std::string& code = type.code;
    if (code == "string" || code == "markdown" || code == "code") {
      if (v.is_string()) Add(v.string_value(), row);
    } else if (code == "xhtml") {
      if (v.is_string()) Add(NarrativeText(v.string_value()), row);  // a contained narrative
    } else if (code == "Resource") {
      if (v.is_object()) Resource(v, /*top=*/false, row);  // contained, Bundle.entry.resource
    } else if (type.structure != nullptr && v.is_object()) {
      Struct(*type.structure, v, /*top_resource=*/false, row);
    }
  }

  void Add(std::string_view text, TextRow* row) {
    if (text.empty() || !seen_.insert(std::string(text)).second) return;
    if (!row->content.empty()) row->content.push_back('\n');
    row->content += text;
    if (row->content.size() >= kMaxTextColumnBytes) {
      TruncateUtf8(&row->content, kMaxTextColumnBytes);
      full_ = true;
    }
  }

  const fhir::Model& model_;
  std::unordered_set<std::string> seen_;  // each distinct value once
  bool full_ = false;
};

// ---- Query -------------------------------------------------------------------------------------

Status BadText(const std::string& why) { return Status(StatusCode::kInvalid, why); }

}  // namespace

// https://hl7.org/fhir/R4/narrative.html#xhtml: the div is XHTML; its text is what a reader sees.
std::string NarrativeText(std::string_view s) {
  std::string out;
  out.reserve(s.size() / 2);
  size_t i = 0;
  size_t text_start = 0;
  auto flush = [&](size_t end) {
    // Plain text between markup: entities decoded, whitespace collapsed.
    std::string decoded;
    for (size_t k = text_start; k < end;) {
      if (s[k] == '&' && DecodeEntity(s, &k, &decoded)) continue;
      decoded.push_back(s[k++]);
    }
    AppendCollapsed(decoded, &out);
  };
  auto separate = [&] {
    if (!out.empty() && out.back() != ' ') out.push_back(' ');
  };
  while (i < s.size()) {
    if (s[i] != '<') {
      ++i;
      continue;
    }
    flush(i);
    std::string_view rest = s.substr(i);
    if (rest.substr(0, 4) == "<!--") {
      size_t end = s.find("-->", i + 4);
      i = end == std::string_view::npos ? s.size() : end + 3;
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      size_t end = s.find("]]>", i + 9);
      std::string_view cdata =
          s.substr(i + 9, (end == std::string_view::npos ? s.size() : end) - (i + 9));
      AppendCollapsed(cdata, &out);
      i = end == std::string_view::npos ? s.size() : end + 3;
    } else if (rest.size() > 1 && (rest[1] == '!' || rest[1] == '?')) {
      i = TagEnd(s, i);  // <!DOCTYPE ...>, <?xml ...?>
    } else {
      bool closing = rest.size() > 1 && rest[1] == '/';
      size_t name_start = i + (closing ? 2 : 1);
      size_t name_end = name_start;
      while (name_end < s.size() && IsNameChar(s[name_end])) ++name_end;
      if (name_end == name_start) {
        // Not a tag ("a < b" in sloppy markup): the '<' is text.
        out.push_back('<');
        text_start = ++i;
        continue;
      }
      std::string name = Lower(s.substr(name_start, name_end - name_start));
      if (size_t colon = name.rfind(':'); colon != std::string::npos) name.erase(0, colon + 1);
      size_t end = TagEnd(s, i);
      bool self_closing = end >= 2 && end <= s.size() && s[end - 2] == '/';
      i = end;
      if (!closing && !self_closing && (name == "script" || name == "style")) {
        // Their content is not text a reader sees (FHIR forbids script; be lenient anyway).
        std::string lower = Lower(s.substr(i));
        size_t close = lower.find("</" + name);
        i = close == std::string::npos ? s.size() : TagEnd(s, i + close);
      }
      if (!IsInlineTag(name)) separate();
    }
    text_start = i;
  }
  flush(s.size());
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

TextRow ExtractText(const json::Value& resource) {
  TextRow row;
  ContentWalker walker(fhir::Model::R4());
  walker.Resource(resource, /*top=*/true, &row);
  return row;
}

Result<TextQuery> ParseTextQuery(std::string_view value) {
  if (value.size() > kMaxTextQueryBytes) {
    return BadText("longer than " + std::to_string(kMaxTextQueryBytes) + " bytes");
  }
  // Groups of OR-ed terms; the groups are AND-ed.
  std::vector<std::vector<TextTerm>> groups;
  enum class Last { kNone, kTerm, kOr, kAnd } last = Last::kNone;
  int terms = 0;
  auto add_term = [&](TextTerm t) -> Status {
    if (++terms > kMaxTextTerms) {
      return BadText("more than " + std::to_string(kMaxTextTerms) + " words or phrases");
    }
    if (t.prefix && CountWordChars(t.text) < 2) {
      return BadText("a prefix search (word*) needs at least 2 letters or digits before the *");
    }
    if (last == Last::kOr) {
      groups.back().push_back(std::move(t));
    } else {
      groups.push_back({std::move(t)});
    }
    last = Last::kTerm;
    return Status::Ok();
  };
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (is_space(c)) {
      ++i;
    } else if (c == '"') {
      size_t close = value.find('"', i + 1);
      if (close == std::string_view::npos) return BadText("a quoted phrase is not closed");
      TextTerm t;
      t.text = std::string(value.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i < value.size() && value[i] == '*') {
        t.prefix = true;
        ++i;
      }
      RETURN_IF_ERROR(add_term(std::move(t)));
    } else {
      size_t end = i;
      while (end < value.size() && !is_space(value[end]) && value[end] != '"') ++end;
      std::string_view word = value.substr(i, end - i);
      i = end;
      if (word == "OR" || word == "AND") {
        if (last != Last::kTerm) {
          return BadText(std::string(word) + " needs a word or phrase on each side");
        }
        last = word == "OR" ? Last::kOr : Last::kAnd;
        continue;
      }
      TextTerm t;
      if (word.size() > 1 && word.back() == '*') {
        t.prefix = true;
        while (!word.empty() && word.back() == '*') word.remove_suffix(1);
      }
      t.text = std::string(word);
      RETURN_IF_ERROR(add_term(std::move(t)));
    }
  }
  if (last == Last::kOr || last == Last::kAnd) {
    return BadText(std::string(last == Last::kOr ? "OR" : "AND") +
                   " needs a word or phrase on each side");
  }
  // Terms without a letter or digit would match nothing (an empty phrase): drop them, as the
  // tokenizer drops punctuation from the indexed text.
  TextQuery query;
  for (std::vector<TextTerm>& group : groups) {
    std::vector<TextTerm> kept;
    for (TextTerm& t : group) {
      if (CountWordChars(t.text) > 0) kept.push_back(std::move(t));
    }
    if (!kept.empty()) query.groups.push_back(std::move(kept));
  }
  if (query.groups.empty()) return BadText("no word to search for");
  return query;
}

}  // namespace vesta::search
