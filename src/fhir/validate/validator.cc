#include "fhir/validate/validator.h"

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "base/strings.h"

namespace vesta::fhir {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[*i] into *out.
int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// YYYY, YYYY-MM or YYYY-MM-DD from s[*i]; *precision is 1, 2 or 3 parts.
bool ParseDatePart(std::string_view s, size_t* i, int* precision) {
  int year, month, day;
  if (!ConsumeDigits(s, i, 4, &year) || year == 0) return false;
  *precision = 1;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!ConsumeDigits(s, i, 2, &month) || month < 1 || month > 12) return false;
  *precision = 2;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!ConsumeDigits(s, i, 2, &day) || day < 1 || day > DaysInMonth(year, month)) return false;
  *precision = 3;
  return true;
}

// hh:mm:ss(.fff)? from s[*i].
bool ParseTimePart(std::string_view s, size_t* i) {
  int hh, mm, ss;
  if (!ConsumeDigits(s, i, 2, &hh) || hh > 23) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!ConsumeDigits(s, i, 2, &mm) || mm > 59) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!ConsumeDigits(s, i, 2, &ss) || ss > 60) return false;
  if (*i < s.size() && s[*i] == '.') {
    ++*i;
    size_t start = *i;
    while (*i < s.size() && IsDigit(s[*i])) ++*i;
    if (*i == start) return false;
  }
  return true;
}

// Z or (+|-)hh:mm with hh:mm up to 14:00.
bool ParseZone(std::string_view s, size_t* i) {
  if (*i < s.size() && s[*i] == 'Z') {
    ++*i;
    return true;
  }
  if (*i >= s.size() || (s[*i] != '+' && s[*i] != '-')) return false;
  ++*i;
  int hh, mm;
  if (!ConsumeDigits(s, i, 2, &hh)) return false;
  if (*i >= s.size() || s[(*i)++] != ':') return false;
  if (!ConsumeDigits(s, i, 2, &mm) || mm > 59) return false;
  return hh < 14 || (hh == 14 && mm == 0);
}

bool IsBase64(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return false;
    }
    ++n;
  }
  return n % 4 == 0;
}

bool HasNonWhitespace(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

bool IsValidOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.empty() || s[0] < '0' || s[0] > '2') return false;
  size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
    ++arcs;
  }
  return arcs >= 1;
}

bool IsValidUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.substr(0, kPrefix.size()) != kPrefix || s.size() != kPrefix.size() + 36) return false;
  s.remove_prefix(kPrefix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool IsIntegerText(std::string_view t, int64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && t[i] == '-') {
    neg = true;
    ++i;
  }
  if (i == t.size() || t.size() - i > 11) return false;
  int64_t v = 0;
  for (; i < t.size(); ++i) {
    if (!IsDigit(t[i])) return false;
    v = v * 10 + (t[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

}  // namespace

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return true;
}

bool IsValidDate(std::string_view s) {
  size_t i = 0;
  int precision;
  return ParseDatePart(s, &i, &precision) && i == s.size();
}

bool IsValidDateTime(std::string_view s) {
  size_t i = 0;
  int precision;
  if (!ParseDatePart(s, &i, &precision)) return false;
  if (i == s.size()) return true;
  // A time needs the full date and a time zone.
  if (precision != 3 || s[i] != 'T') return false;
  ++i;
  return ParseTimePart(s, &i) && ParseZone(s, &i) && i == s.size();
}

bool IsValidInstant(std::string_view s) {
  size_t i = 0;
  int precision;
  if (!ParseDatePart(s, &i, &precision) || precision != 3) return false;
  if (i >= s.size() || s[i] != 'T') return false;
  ++i;
  return ParseTimePart(s, &i) && ParseZone(s, &i) && i == s.size();
}

bool IsValidTime(std::string_view s) {
  size_t i = 0;
  return ParseTimePart(s, &i) && i == s.size();
}

bool IsValidCode(std::string_view s) {
  // [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
  if (s.empty()) return false;
  bool prev_space = true;
  for (char c : s) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && prev_space) return false;
    prev_space = space;
  }
  return !prev_space;
}

namespace {

// YYYY-MM-DDThh:mm:ss(.sss) with nothing after: a dateTime or instant whose zone is missing.
bool HasTimeWithoutZone(std::string_view s) {
  size_t i = 0;
  int precision;
  if (!ParseDatePart(s, &i, &precision) || precision != 3) return false;
  if (i >= s.size() || s[i] != 'T') return false;
  ++i;
  return ParseTimePart(s, &i) && i == s.size();
}

class Validator {
 public:
  Validator(const Model& model, const ValidationOptions& options)
      : model_(model), options_(options) {}

  void ValidateResourceAt(const json::Value& v, const std::string& path, bool top_level) {
    if (!v.is_object()) {
      Add("structure", "a resource must be a JSON object", path);
      return;
    }
    const json::Value* rt = v.Find("resourceType");
    if (rt == nullptr) {
      Add("structure", "the resource has no resourceType", path);
      return;
    }
    if (!rt->is_string()) {
      Add("structure", "resourceType must be a string", path);
      return;
    }
    std::string_view type = rt->string_value();
    const StructInfo* s = model_.FindStruct(type);
    if (s == nullptr || s->kind != TypeKind::kResource || s->is_abstract) {
      Add("not-supported", "unknown resource type '" + std::string(type) + "'", path);
      return;
    }
    ValidateObject(*s, v, top_level ? std::string(type) : path, /*is_resource=*/true);
  }

  std::vector<Issue> TakeIssues() { return std::move(issues_); }

 private:
  void Add(const char* type, std::string message, const std::string& location) {
    if (issues_.size() >= options_.max_issues) return;
    issues_.push_back(Issue{Severity::kError, type, std::move(message), location});
  }

  // An error, or under lenient validation a warning.
  void AddOrWarn(const char* type, std::string message, const std::string& location) {
    if (!options_.lenient) {
      Add(type, std::move(message), location);
      return;
    }
    if (options_.warnings == nullptr || options_.warnings->size() >= options_.max_issues) return;
    options_.warnings->push_back(Issue{Severity::kWarning, type, std::move(message), location});
  }

  void ValidateObject(const StructInfo& s, const json::Value& obj, const std::string& path,
                      bool is_resource) {
    if (obj.size() == 0) {
      Add("structure", "empty objects are not allowed", path);
      return;
    }
    // Which choice elements were seen, to refuse two types for one element.
    std::vector<const ElementInfo*> choices_seen;
    for (const json::Member& m : obj.members()) {
      if (is_resource && m.key == "resourceType") continue;
      std::string child = path + "." + std::string(m.key);
      ElementMatch match = s.Match(m.key);
      if (match.element == nullptr) {
        Add("structure", "unknown element '" + std::string(m.key) + "' in " + s.name, child);
        continue;
      }
      const ElementInfo& e = *match.element;
      if (e.is_choice && !match.is_primitive_extension) {
        bool dup = false;
        for (const ElementInfo* seen : choices_seen) dup |= seen == &e;
        if (dup) {
          Add("structure", "more than one type given for " + e.name + "[x]", child);
        }
        choices_seen.push_back(&e);
      }
      if (match.is_primitive_extension) {
        ValidatePrimitiveExtension(s, obj, m, e, *match.type, child);
      } else {
        ValidateElement(obj, m, e, *match.type, child, is_resource);
      }
    }
    if (options_.check_min_cardinality) CheckRequired(s, obj, path);
  }

  void CheckRequired(const StructInfo& s, const json::Value& obj, const std::string& path) {
    for (const ElementInfo& e : s.elements) {
      if (e.min == 0) continue;
      bool present = false;
      for (const json::Member& m : obj.members()) {
        std::string_view key = m.key;
        if (!key.empty() && key[0] == '_') key.remove_prefix(1);
        if (key == e.name ||
            (e.is_choice && key.substr(0, e.name.size()) == e.name && s.Match(key).element == &e)) {
          present = true;
          break;
        }
      }
      if (!present) {
        AddOrWarn("required",
                  "missing required element '" + e.name + (e.is_choice ? "[x]" : "") + "'", path);
      }
    }
  }

  void ValidateElement(const json::Value& obj, const json::Member& m, const ElementInfo& e,
                       const TypeRef& type, const std::string& path, bool parent_is_resource) {
    const json::Value& v = m.value;
    const bool primitive = type.structure == nullptr && type.code != "Resource";
    if (e.is_array()) {
      if (!v.is_array()) {
        Add("structure", "element '" + e.name + "' repeats: its value must be an array", path);
        return;
      }
      if (v.size() == 0) {
        Add("structure", "empty arrays are not allowed", path);
        return;
      }
      const json::Value* ext = primitive ? obj.Find("_" + std::string(m.key)) : nullptr;
      for (size_t i = 0; i < v.size(); ++i) {
        std::string item_path = path + "[" + std::to_string(i) + "]";
        const json::Value& item = v.items()[i];
        if (item.is_null()) {
          bool paired = primitive && ext != nullptr && ext->is_array() && i < ext->size() &&
                        !ext->items()[i].is_null();
          if (!paired)
            Add("structure",
                "null is only allowed when _" + std::string(m.key) +
                    " has a value at the same index",
                item_path);
          continue;
        }
        ValidateValue(item, e, type, item_path, parent_is_resource);
      }
      return;
    }
    if (v.is_array()) {
      Add("structure", "element '" + e.name + "' does not repeat: an array is not allowed", path);
      return;
    }
    ValidateValue(v, e, type, path, parent_is_resource);
  }

  void ValidateValue(const json::Value& v, const ElementInfo& e, const TypeRef& type,
                     const std::string& path, bool parent_is_resource) {
    if (type.code == "Resource") {
      ValidateResourceAt(v, path, /*top_level=*/false);
      return;
    }
    if (type.structure != nullptr) {
      if (!v.is_object()) {
        Add("structure", "a " + type.code + " must be a JSON object", path);
        return;
      }
      ValidateObject(*type.structure, v, path, /*is_resource=*/false);
      return;
    }
    // Resource.id is declared as a string in the snapshot but has the `id` format.
    std::string_view code = type.code;
    if (parent_is_resource && e.name == "id") code = "id";
    ValidatePrimitive(v, code, path);
  }

  void ValidatePrimitive(const json::Value& v, std::string_view code, const std::string& path) {
    auto wrong = [&](const char* what) {
      Add("value", std::string("a ") + std::string(code) + " must be " + what, path);
    };
    if (code == "boolean") {
      if (!v.is_bool()) wrong("true or false");
      return;
    }
    if (code == "integer" || code == "positiveInt" || code == "unsignedInt") {
      int64_t n = 0;
      if (!v.is_number() || !IsIntegerText(v.number_text(), &n) || n > INT32_MAX || n < INT32_MIN) {
        wrong("a JSON number without fraction or exponent, in 32-bit range");
        return;
      }
      if (code == "positiveInt" && n < 1) wrong("at least 1");
      if (code == "unsignedInt" && n < 0) wrong("at least 0");
      return;
    }
    if (code == "decimal") {
      if (!v.is_number()) wrong("a JSON number");
      return;
    }
    if (!v.is_string()) {
      wrong("a JSON string");
      return;
    }
    std::string_view s = v.string_value();
    if (s.empty()) {
      Add("value", "empty strings are not allowed", path);
      return;
    }
    bool ok = true;
    const char* expected = "";
    if (code == "id") {
      ok = IsValidId(s);
      expected = "1-64 characters of A-Z, a-z, 0-9, '-' and '.'";
    } else if (code == "date") {
      ok = IsValidDate(s);
      expected = "YYYY, YYYY-MM or YYYY-MM-DD";
    } else if (code == "dateTime") {
      ok = IsValidDateTime(s);
      expected = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss) with a time zone";
    } else if (code == "instant") {
      ok = IsValidInstant(s);
      expected = "YYYY-MM-DDThh:mm:ss(.sss) with a time zone";
    } else if (code == "time") {
      ok = IsValidTime(s);
      expected = "hh:mm:ss(.sss)";
    } else if (code == "code") {
      ok = IsValidCode(s);
      expected = "a token without leading, trailing or repeated whitespace";
    } else if (code == "oid") {
      ok = IsValidOid(s);
      expected = "urn:oid: followed by a dotted number";
    } else if (code == "uuid") {
      ok = IsValidUuid(s);
      expected = "urn:uuid: followed by a lower-case UUID";
    } else if (code == "base64Binary") {
      ok = IsBase64(s);
      expected = "base64";
    } else if (code == "uri" || code == "url" || code == "canonical") {
      for (char c : s) ok &= !std::isspace(static_cast<unsigned char>(c));
      expected = "a URI without whitespace";
    } else if (code == "xhtml") {
      size_t start = s.find_first_not_of(" \t\r\n");
      ok = start != std::string_view::npos && s.substr(start, 4) == "<div";
      expected = "an XHTML <div> element";
    } else {  // string, markdown
      ok = HasNonWhitespace(s);
      expected = "not only whitespace";
    }
    if (!ok && (code == "dateTime" || code == "instant") && HasTimeWithoutZone(s)) {
      AddOrWarn("value",
                std::string(code) + " '" + std::string(s.substr(0, 100)) +
                    "' has a time but no time zone",
                path);
      return;
    }
    if (!ok) {
      Add("value",
          "invalid " + std::string(code) + " '" + std::string(s.substr(0, 100)) + "': expected " +
              expected,
          path);
    }
  }

  // `_name`: the id and extensions of a primitive element (or an array of them, null where the
  // matching value has none). https://hl7.org/fhir/R4/json.html#primitive
  void ValidatePrimitiveExtension(const StructInfo& s, const json::Value& obj,
                                  const json::Member& m, const ElementInfo& e, const TypeRef& type,
                                  const std::string& path) {
    (void)s;
    if (type.structure != nullptr || type.code == "Resource") {
      Add("structure", "'" + std::string(m.key) + "': only primitive elements take a _ property",
          path);
      return;
    }
    const StructInfo* element_struct = model_.FindStruct("Element");
    const json::Value& v = m.value;
    if (!e.is_array()) {
      if (!v.is_object()) {
        Add("structure", "'" + std::string(m.key) + "' must be an object", path);
        return;
      }
      ValidateObject(*element_struct, v, path, false);
      return;
    }
    if (!v.is_array() || v.size() == 0) {
      Add("structure", "'" + std::string(m.key) + "' must be a non-empty array", path);
      return;
    }
    const json::Value* base = obj.Find(std::string_view(m.key).substr(1));
    if (base != nullptr && base->is_array() && base->size() != v.size()) {
      Add("structure",
          "'" + std::string(m.key) + "' must have as many items as '" +
              std::string(std::string_view(m.key).substr(1)) + "'",
          path);
    }
    for (size_t i = 0; i < v.size(); ++i) {
      const json::Value& item = v.items()[i];
      std::string item_path = path + "[" + std::to_string(i) + "]";
      if (item.is_null()) {
        bool paired =
            base != nullptr && base->is_array() && i < base->size() && !base->items()[i].is_null();
        if (!paired) Add("structure", "null without a value at the same index", item_path);
        continue;
      }
      if (!item.is_object()) {
        Add("structure", "items of '" + std::string(m.key) + "' must be objects or null",
            item_path);
        continue;
      }
      ValidateObject(*element_struct, item, item_path, false);
    }
  }

  const Model& model_;
  const ValidationOptions& options_;
  std::vector<Issue> issues_;
};

}  // namespace

Status ValidateResource(const json::Value& resource, const Model& model,
                        const ValidationOptions& options) {
  Validator validator(model, options);
  validator.ValidateResourceAt(resource, "", /*top_level=*/true);
  std::vector<Issue> issues = validator.TakeIssues();
  if (issues.empty()) return Status::Ok();
  std::string message = issues.size() == 1
                            ? issues[0].diagnostics
                            : std::to_string(issues.size()) + " problems in the resource";
  return Status(StatusCode::kInvalid, message, std::move(issues));
}

}  // namespace vesta::fhir
