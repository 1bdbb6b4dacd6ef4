// The simdjson adapter: simdjson's On-Demand API validates the input (structure, UTF-8, string
// escapes) and we copy what it yields into our arena tree, keeping number tokens verbatim.
#include "json/parse.h"

#include <simdjson.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "base/strings.h"
namespace vesta::json {
namespace {

namespace od = simdjson::ondemand;

// RFC 8259 §6 number grammar: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

class Builder {
 public:
  Builder(Arena& arena, const char* base) : arena_(arena), base_(base) {}

  Status Build(od::value v, int depth, Value* out) {
    if (depth > kMaxDepth) return Fail("nesting deeper than " + std::to_string(kMaxDepth));
    od::json_type type;
    if (auto err = v.type().get(type)) return Fail(err, v);
    switch (type) {
      case od::json_type::object: {
        od::object obj;
        if (auto err = v.get_object().get(obj)) return Fail(err, v);
        std::vector<Member> members;
        for (auto field : obj) {
          std::string_view key;
          if (auto err = field.unescaped_key().get(key)) return Fail(err);
          Member m;
          m.key = arena_.CopyString(key);
          RETURN_IF_ERROR(Build(field.value(), depth + 1, &m.value));
          members.push_back(m);
        }
        RETURN_IF_ERROR(CheckUniqueKeys(members));
        *out = Value::Object(arena_, members);
        return Status::Ok();
      }
      case od::json_type::array: {
        od::array arr;
        if (auto err = v.get_array().get(arr)) return Fail(err, v);
        std::vector<Value> items;
        for (auto element : arr) {
          od::value item;
          if (auto err = element.get(item)) return Fail(err);
          Value built;
          RETURN_IF_ERROR(Build(item, depth + 1, &built));
          items.push_back(built);
        }
        *out = Value::Array(arena_, items);
        return Status::Ok();
      }
      case od::json_type::number: {
        std::string_view raw = TrimRight(v.raw_json_token());
        if (!IsJsonNumber(raw)) return Fail("invalid number '" + std::string(raw) + "'", raw);
        *out = Value::Number(arena_, raw);
        return Status::Ok();
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) return Fail(err, v);
        *out = Value::String(arena_, s);
        return Status::Ok();
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = v.get_bool().get(b)) return Fail(err, v);
        *out = Value::Bool(b);
        return Status::Ok();
      }
      case od::json_type::null: {
        bool is_null;
        if (auto err = v.is_null().get(is_null); err || !is_null) {
          return Fail("invalid literal", TrimRight(v.raw_json_token()));
        }
        *out = Value();
        return Status::Ok();
      }
    }
    return Fail("unexpected JSON token");
  }

 private:
  Status CheckUniqueKeys(const std::vector<Member>& members) {
    if (members.size() < 2) return Status::Ok();
    if (members.size() <= 16) {
      for (size_t i = 0; i < members.size(); ++i) {
        for (size_t j = i + 1; j < members.size(); ++j) {
          if (members[i].key == members[j].key) return Duplicate(members[i].key);
        }
      }
      return Status::Ok();
    }
    std::unordered_set<std::string_view> seen;
    for (const Member& m : members) {
      if (!seen.insert(m.key).second) return Duplicate(m.key);
    }
    return Status::Ok();
  }

  Status Duplicate(std::string_view key) {
    return Status(StatusCode::kInvalid,
                  "invalid JSON: duplicate object key '" + std::string(key) + "'");
  }

  Status Fail(const std::string& what, std::string_view at = {}) {
    std::string msg = "invalid JSON: " + what;
    if (!at.empty()) msg += " at byte " + std::to_string(at.data() - base_);
    return Status(StatusCode::kInvalid, msg);
  }
  Status Fail(simdjson::error_code err) {
    return Status(StatusCode::kInvalid,
                  std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  Status Fail(simdjson::error_code err, od::value& v) {
    return Fail(simdjson::error_message(err), TrimRight(v.raw_json_token()));
  }

  Arena& arena_;
  const char* base_;
};

}  // namespace

Result<Document> Parse(std::string_view input) {
  // One parser per thread: its buffers are reused across calls.
  thread_local od::parser parser;
  simdjson::padded_string padded(input);
  od::document doc;
  if (auto err = parser.iterate(padded).get(doc)) {
    return Status(StatusCode::kInvalid,
                  std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  Document out;
  od::json_type type;
  if (auto err = doc.type().get(type)) {
    return Status(StatusCode::kInvalid,
                  std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  Builder builder(out.arena(), padded.data());
  if (type == od::json_type::object || type == od::json_type::array) {
    od::value root;
    if (auto err = doc.get_value().get(root)) {
      return Status(StatusCode::kInvalid,
                    std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    RETURN_IF_ERROR(builder.Build(root, 0, &out.mutable_root()));
  } else {
    // A scalar at the top level: rare, but valid JSON.
    std::string_view raw;
    if (auto err = doc.raw_json_token().get(raw)) {
      return Status(StatusCode::kInvalid,
                    std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    if (raw.data() + raw.size() != padded.data() + padded.size()) {
      return Status(StatusCode::kInvalid, "invalid JSON: unexpected content after the value");
    }
    raw = TrimRight(raw);
    if (type == od::json_type::string) {
      std::string_view s;
      if (auto err = doc.get_string().get(s)) {
        return Status(StatusCode::kInvalid,
                      std::string("invalid JSON: ") + simdjson::error_message(err));
      }
      out.mutable_root() = Value::String(out.arena(), s);
    } else if (type == od::json_type::number) {
      if (!IsJsonNumber(raw)) return Status(StatusCode::kInvalid, "invalid JSON: bad number");
      out.mutable_root() = Value::Number(out.arena(), raw);
    } else if (raw == "true" || raw == "false") {
      out.mutable_root() = Value::Bool(raw == "true");
    } else if (raw != "null") {
      return Status(StatusCode::kInvalid, "invalid JSON: bad literal");
    }
    return out;
  }
  // After the root value, the document must be exhausted: current_location() fails with
  // OUT_OF_BOUNDS exactly when nothing but whitespace is left.
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    return Status(StatusCode::kInvalid, "invalid JSON: unexpected content after the value");
  }
  return out;
}

}  // namespace vesta::json
