// The JSON document model: an immutable-by-default tree allocated in an arena.
//
// Parse untrusted bytes with json::Parse (json/parse.h); serialize with json::Write
// (json/writer.h). Numbers keep their raw text exactly as received, so `1.50` is written back as
// `1.50` (FHIR requires decimals to round-trip: https://hl7.org/fhir/R4/json.html#primitive).
// Object members keep their order.
//
//   ASSIGN_OR_RETURN(json::Document doc, json::Parse(body));
//   const json::Value& root = doc.root();
//   if (const json::Value* rt = root.Find("resourceType")) { ... rt->string_value() ... }
//
// Lifetimes: every Value, string_view and span handed out points into the Document's arena and
// stays valid as long as the Document lives (moving a Document keeps them valid). A Document is
// not thread-safe for writes; concurrent reads of a const Document are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace vesta::json {

enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct Member;
class Arena;

class Value {
 public:
  Value() = default;  // null

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // REQUIRES: is_bool().
  bool bool_value() const { return bool_; }
  // REQUIRES: is_number(). The token exactly as it appeared in the input, e.g. "1.50", "-0", "1e3".
  std::string_view number_text() const { return {str_, size_}; }
  // REQUIRES: is_string(). Unescaped UTF-8.
  std::string_view string_value() const { return {str_, size_}; }
  // REQUIRES: is_array().
  std::span<const Value> items() const { return {arr_, size_}; }
  // REQUIRES: is_object(). In input order.
  std::span<const Member> members() const;
  // Number of items (array) or members (object); 0 otherwise.
  size_t size() const { return (is_array() || is_object()) ? size_ : 0; }

  // The member named `key` of an object, or nullptr (also when this is not an object).
  const Value* Find(std::string_view key) const;
  // The string value of member `key`, or an empty view when absent or not a string.
  std::string_view FindString(std::string_view key) const;

  // Builders. Strings and arrays passed in are copied into `arena`.
  static Value Bool(bool b);
  static Value Number(Arena& arena, std::string_view text);
  static Value String(Arena& arena, std::string_view text);
  static Value Array(Arena& arena, std::span<const Value> items);
  static Value Object(Arena& arena, std::span<const Member> members);

 private:
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  uint32_t size_ = 0;
  union {
    const char* str_ = nullptr;
    const Value* arr_;
    const Member* mem_;
  };
};

struct Member {
  std::string_view key;
  Value value;
};

inline std::span<const Member> Value::members() const { return {mem_, size_}; }

// A bump allocator. Memory is released when the Arena is destroyed.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  void* Allocate(size_t bytes, size_t align);
  std::string_view CopyString(std::string_view s);
  size_t bytes_allocated() const { return total_; }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  size_t left_ = 0;
  size_t total_ = 0;
};

// A parsed document: the arena and its root value.
class Document {
 public:
  Document() : arena_(std::make_unique<Arena>()) {}

  const Value& root() const { return root_; }
  Value& mutable_root() { return root_; }
  Arena& arena() { return *arena_; }

 private:
  std::unique_ptr<Arena> arena_;  // heap-held so that moving the Document keeps views valid
  Value root_;
};

// JSON equality as FHIR means it: objects compare member sets regardless of order, arrays in
// order, numbers by their exact text (so 1.5 != 1.50), strings by their unescaped bytes.
bool Equal(const Value& a, const Value& b);

// A copy of `v` with member `key` set to `value` (replaced in place if present, else appended).
// REQUIRES: v.is_object().
Value WithMember(Arena& arena, const Value& v, std::string_view key, const Value& value);
// A copy of `v` without member `key`. REQUIRES: v.is_object().
Value WithoutMember(Arena& arena, const Value& v, std::string_view key);

}  // namespace vesta::json
