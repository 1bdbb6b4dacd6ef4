// Flat lookup tables over the R4 model for the evaluator's hot paths (internal to the engine).
//
// Navigation asks, for every JSON member of every node it walks, which element and type the
// member's name denotes in the node's structure. The model answers through std::unordered_maps
// keyed by std::string (a std::hash of the whole name, a bucket node, the key's characters in
// another allocation), and its answer points into ElementInfo and TypeRef objects spread over the
// heap. ModelIndex answers from open-addressing tables built once for the whole model, one small
// table per structure. A slot is one cache line holding the name's size and first and last eight
// bytes (the whole name for names up to 16 bytes, nearly all element names) and what navigation
// needs (the element, its type's name and structure): a lookup compares in registers and touches
// one line. The tables never change after they are built, so input (member names crafted to
// collide) cannot lengthen their chains.
//
//   const ModelIndex::Names names = ModelIndex::R4().NamesOf(patient);
//   MemberType m = names.MatchMember("deceasedBoolean");  // m.element->name == "deceased"
//
// Answers are those of the model (StructInfo::Match and FindElement, Model::FindStruct and IsA);
// a structure the tables do not hold (none reachable from a resource type) is answered by the
// model itself.
//
// Thread-safety: built on first use; immutable afterwards, so any thread may call it. Pointers it
// returns point into the model, which lives for the whole process.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "fhir/model/model.h"

namespace vesta::fhirpath::internal {

// What a JSON member name denotes in a structure (StructInfo::Match, plus the type's structure).
struct MemberType {
  const fhir::ElementInfo* element = nullptr;  // nullptr: the name is not an element here
  const fhir::TypeRef* type = nullptr;         // the type chosen (the only one unless a choice)
  // The structure of that type: the TypeRef's own, else the named type's (the abstract
  // `Resource` for elements of any resource type, whose nodes say their type in resourceType).
  const fhir::StructInfo* structure = nullptr;
  // The type's name (type->code): the structure's own `name` string when that is the same name,
  // so that a node's type name and structure can be compared by address.
  std::string_view type_name;
};

// Whether a type name is a primitive type's ("string", "code"; complex types and resources are
// capitalised).
inline bool IsPrimitiveTypeName(std::string_view name) {
  return !name.empty() && name[0] >= 'a' && name[0] <= 'z';
}

// What a FHIRPath element name denotes in a structure (StructInfo::FindElement).
struct ElementName {
  const fhir::ElementInfo* element = nullptr;  // nullptr: the name is not an element here
  bool is_choice = false;                      // element->is_choice
  bool is_primitive = false;                   // member.type_name is a primitive type
  MemberType member;  // unless a choice: the type of the JSON member of this name
};

class ModelIndex {
  struct Slot;
  struct Table;

 public:
  // The tables of the R4 model (fhir::Model::R4()), built on first use.
  static const ModelIndex& R4();

  explicit ModelIndex(const fhir::Model& model);
  ModelIndex(const ModelIndex&) = delete;
  ModelIndex& operator=(const ModelIndex&) = delete;

  // The names of one structure: found once for the many members of a node.
  class Names {
   public:
    // StructInfo::Match. REQUIRES: `json_name` does not start with '_' (look a primitive's
    // `_name` part up by `name`).
    MemberType MatchMember(std::string_view json_name) const {
      if (table_ == nullptr) return MatchInModel(json_name);
      const Slot* s = index_->Probe(*table_, json_name);
      return s != nullptr && s->member.type != nullptr ? s->member : MemberType{};
    }
    // StructInfo::FindElement: the element named `name` ("value" for value[x]); for an element
    // that is not a choice, with the type of its JSON member (MatchMember(name)).
    ElementName FindElement(std::string_view name) const;

   private:
    friend class ModelIndex;
    Names(const ModelIndex* index, const Table* table, const fhir::StructInfo* st)
        : index_(index), table_(table), structure_(st) {}
    MemberType MatchInModel(std::string_view json_name) const;

    const ModelIndex* index_;
    const Table* table_;                 // nullptr: no table, the model answers
    const fhir::StructInfo* structure_;  // nullptr: untyped JSON, where no name is an element
  };

  // `st` is a structure of the model, or nullptr for untyped JSON.
  Names NamesOf(const fhir::StructInfo* st) const;
  // Model::FindStruct.
  const fhir::StructInfo* FindStruct(std::string_view name) const;
  // Model::IsA.
  bool IsA(std::string_view type, std::string_view ancestor) const;

 private:
  // A name as probes compare it: its size and its first and last eight bytes (for shorter names,
  // the bytes that cover it, so that with the size they determine a name of up to 16 bytes).
  struct Key {
    uint64_t head = 0;
    uint64_t tail = 0;
    uint32_t size = 0;
  };
  // One name of a structure (an element name, a JSON member name or both), or a type name in the
  // table of structures (`member.structure`): one cache line.
  struct alignas(64) Slot {
    uint64_t head = 0, tail = 0;   // the name's Key
    uint32_t size = 0;             // 0: a free slot (no name is empty)
    bool is_element_name = false;  // FindElement(name) is member.element
    bool is_choice = false;        // ... which is a choice element
    bool is_primitive = false;     // member.type_name is a primitive type
    MemberType member;             // Match(name), when member.type is set

    bool Holds(const Key& k) const { return head == k.head && tail == k.tail && size == k.size; }
  };
  static_assert(sizeof(Slot) == 64);
  // A run of slots_ (a power of two in size, at most half full): slots_[first, first + mask].
  struct Table {
    const fhir::StructInfo* structure = nullptr;  // nullptr: a free entry of tables_
    uint32_t first = 0;
    uint32_t mask = 0;
  };

  static uint64_t Load(const char* p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
  }
  static uint64_t Mix(uint64_t a, uint64_t b) {
    const unsigned __int128 p =
        static_cast<unsigned __int128>(a ^ 0x9E3779B97F4A7C15ull) * (b ^ 0xD6E8FEB86659FD93ull);
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  }
  static Key KeyOf(std::string_view name) {
    const char* p = name.data();
    const size_t n = name.size();
    Key k;
    k.size = static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));  // over 16: compared whole
    if (n >= 8) {
      k.head = Load(p, 8);
      k.tail = Load(p + n - 8, 8);
    } else if (n >= 4) {
      k.head = Load(p, 4);
      k.tail = Load(p + n - 4, 4);
    } else if (n > 0) {
      k.head = static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[n / 2]) << 8 |
               static_cast<unsigned char>(p[n - 1]) << 16;
    }
    return k;
  }
  // A hash of every byte of the name: its key, and the middle of a name over 16 bytes.
  static uint64_t Hash(const Key& key, std::string_view name) {
    uint64_t h = Mix(key.head, key.tail ^ key.size);
    for (size_t i = 8; i + 8 < name.size(); i += 8) h = Mix(h, Load(name.data() + i, 8));
    return h;
  }
  // The slot of `name` in `table`, or nullptr.
  const Slot* Probe(const Table& table, std::string_view name) const {
    const Key key = KeyOf(name);
    for (uint64_t i = Hash(key, name);; ++i) {
      const size_t at = table.first + (i & table.mask);
      const Slot& s = slots_[at];
      if (s.size == 0) return nullptr;
      if (s.Holds(key) && (key.size <= 16 || names_[at] == name)) return &s;
    }
  }

  Table AddTable(const std::vector<std::pair<std::string_view, Slot>>& entries);
  void AddStruct(const fhir::StructInfo* st);

  const fhir::Model& model_;
  std::vector<Slot> slots_;
  std::vector<std::string_view> names_;  // the name of each slot (compared when over 16 bytes)
  // Open addressing by structure address (a power of two in size, at most half full).
  std::vector<Table> tables_;
  Table structs_;  // the structures with tables, by name (FindStruct)
};

}  // namespace vesta::fhirpath::internal
