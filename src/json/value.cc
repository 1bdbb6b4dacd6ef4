#include "json/value.h"

#include <algorithm>
#include <cstring>

namespace vesta::json {

void* Arena::Allocate(size_t bytes, size_t align) {
  size_t pad = (align - (reinterpret_cast<uintptr_t>(cur_) & (align - 1))) & (align - 1);
  if (cur_ == nullptr || pad + bytes > left_) {
    // Blocks double from 4 KiB up to 64 KiB: a resource of a few KiB (the common case, and what
    // a bulk load holds thousands of at once) does not pay for a 64 KiB block it barely uses.
    size_t next = std::clamp<size_t>(total_, 4096, 64 * 1024);
    size_t size = std::max<size_t>(bytes + align, next);
    blocks_.push_back(std::make_unique<char[]>(size));
    cur_ = blocks_.back().get();
    left_ = size;
    total_ += size;
    pad = (align - (reinterpret_cast<uintptr_t>(cur_) & (align - 1))) & (align - 1);
  }
  char* p = cur_ + pad;
  cur_ = p + bytes;
  left_ -= pad + bytes;
  return p;
}

std::string_view Arena::CopyString(std::string_view s) {
  if (s.empty()) return {};
  char* p = static_cast<char*>(Allocate(s.size(), 1));
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

const Value* Value::Find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const Member& m : members()) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::string_view Value::FindString(std::string_view key) const {
  const Value* v = Find(key);
  return (v != nullptr && v->is_string()) ? v->string_value() : std::string_view();
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(Arena& arena, std::string_view text) {
  Value v = String(arena, text);  // the same copy of the text; only the kind differs
  v.kind_ = Kind::kNumber;
  return v;
}

Value Value::String(Arena& arena, std::string_view text) {
  Value v;
  v.kind_ = Kind::kString;
  std::string_view s = arena.CopyString(text);
  v.str_ = s.data();
  v.size_ = static_cast<uint32_t>(s.size());
  return v;
}

Value Value::Array(Arena& arena, std::span<const Value> items) {
  Value v;
  v.kind_ = Kind::kArray;
  v.size_ = static_cast<uint32_t>(items.size());
  if (!items.empty()) {
    auto* p = static_cast<Value*>(arena.Allocate(sizeof(Value) * items.size(), alignof(Value)));
    std::copy(items.begin(), items.end(), p);
    v.arr_ = p;
  }
  return v;
}

Value Value::Object(Arena& arena, std::span<const Member> members) {
  Value v;
  v.kind_ = Kind::kObject;
  v.size_ = static_cast<uint32_t>(members.size());
  if (!members.empty()) {
    auto* p =
        static_cast<Member*>(arena.Allocate(sizeof(Member) * members.size(), alignof(Member)));
    std::copy(members.begin(), members.end(), p);
    v.mem_ = p;
  }
  return v;
}

bool Equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.bool_value() == b.bool_value();
    case Kind::kNumber:
      return a.number_text() == b.number_text();
    case Kind::kString:
      return a.string_value() == b.string_value();
    case Kind::kArray: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!Equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Kind::kObject: {
      if (a.size() != b.size()) return false;
      for (const Member& m : a.members()) {
        const Value* other = b.Find(m.key);
        if (other == nullptr || !Equal(m.value, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

Value WithMember(Arena& arena, const Value& v, std::string_view key, const Value& value) {
  std::vector<Member> members(v.members().begin(), v.members().end());
  bool replaced = false;
  for (Member& m : members) {
    if (m.key == key) {
      m.value = value;
      replaced = true;
    }
  }
  if (!replaced) members.push_back(Member{arena.CopyString(key), value});
  return Value::Object(arena, members);
}

Value WithoutMember(Arena& arena, const Value& v, std::string_view key) {
  std::vector<Member> members;
  members.reserve(v.size());
  for (const Member& m : v.members()) {
    if (m.key != key) members.push_back(m);
  }
  return Value::Object(arena, members);
}

}  // namespace vesta::json
