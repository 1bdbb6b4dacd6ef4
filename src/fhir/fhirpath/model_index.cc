#include "fhir/fhirpath/model_index.h"

#include <algorithm>
#include <bit>
#include <unordered_set>

namespace vesta::fhirpath::internal {
namespace {

uint64_t HashAddress(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) >> 4) * 0x9E3779B97F4A7C15ull;
}

// A power of two with room for `n` entries at most half full.
size_t TableSize(size_t n) { return std::bit_ceil(std::max<size_t>(4, 2 * n)); }

}  // namespace

const ModelIndex& ModelIndex::R4() {
  static const ModelIndex* index = new ModelIndex(fhir::Model::R4());
  return *index;
}

ModelIndex::ModelIndex(const fhir::Model& model) : model_(model) {
  // Every structure reachable from the resource types through element types and bases.
  std::vector<const fhir::StructInfo*> all;
  std::unordered_set<const fhir::StructInfo*> seen;
  auto reach = [&](const fhir::StructInfo* st) {
    if (st != nullptr && seen.insert(st).second) all.push_back(st);
  };
  for (const std::string& name : model.resource_types()) reach(model.FindStruct(name));
  for (const char* name : {"Resource", "DomainResource", "Element", "BackboneElement"}) {
    reach(model.FindStruct(name));
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const fhir::StructInfo* st = all[i];
    if (!st->base.empty()) reach(model.FindStruct(st->base));
    for (const fhir::ElementInfo& e : st->elements) {
      for (const fhir::TypeRef& t : e.types) {
        reach(t.structure != nullptr ? t.structure : model.FindStruct(t.code));
      }
    }
  }

  tables_.resize(TableSize(all.size()));
  std::vector<std::pair<std::string_view, Slot>> by_name;
  for (const fhir::StructInfo* st : all) {
    AddStruct(st);
    Slot slot;
    slot.member.structure = st;
    by_name.emplace_back(st->name, slot);
  }
  structs_ = AddTable(by_name);
}

void ModelIndex::AddStruct(const fhir::StructInfo* st) {
  std::vector<std::pair<std::string_view, Slot>> entries;
  auto entry = [&](std::string_view name) -> Slot& {
    for (auto& [n, slot] : entries) {
      if (n == name) return slot;
    }
    return entries.emplace_back(name, Slot{}).second;
  };
  for (const auto& [json_name, at] : st->json_names) {
    const fhir::ElementInfo& e = st->elements[at.first];
    if (at.second >= e.types.size()) continue;  // an element without types: untyped
    const fhir::TypeRef& t = e.types[at.second];
    Slot& slot = entry(json_name);
    slot.is_primitive = IsPrimitiveTypeName(t.code);
    MemberType& m = slot.member;
    m.element = &e;
    m.type = &t;
    m.structure = t.structure != nullptr ? t.structure : model_.FindStruct(t.code);
    m.type_name = m.structure != nullptr && m.structure->name == t.code
                      ? std::string_view(m.structure->name)
                      : std::string_view(t.code);
  }
  for (const fhir::ElementInfo& e : st->elements) {
    Slot& slot = entry(e.name);
    if (slot.is_element_name) continue;  // the first of the name, as FindElement
    if (slot.member.element != nullptr && slot.member.element != &e) {
      return;  // a JSON name of one element is another's name: leave it to the model
    }
    slot.is_element_name = true;
    slot.is_choice = e.is_choice;
    slot.member.element = &e;
  }
  const Table table = AddTable(entries);
  for (uint64_t i = HashAddress(st) >> 32;; ++i) {
    Table& t = tables_[i & (tables_.size() - 1)];
    if (t.structure == nullptr) {
      t = table;
      t.structure = st;
      return;
    }
  }
}

ModelIndex::Table ModelIndex::AddTable(
    const std::vector<std::pair<std::string_view, Slot>>& entries) {
  Table table;
  table.first = static_cast<uint32_t>(slots_.size());
  const size_t size = TableSize(entries.size());
  table.mask = static_cast<uint32_t>(size - 1);
  slots_.resize(slots_.size() + size);
  names_.resize(slots_.size());
  for (const auto& [name, slot] : entries) {
    const Key key = KeyOf(name);
    for (uint64_t i = Hash(key, name);; ++i) {
      const size_t at = table.first + (i & table.mask);
      if (slots_[at].size == 0) {
        slots_[at] = slot;
        slots_[at].head = key.head;
        slots_[at].tail = key.tail;
        slots_[at].size = key.size;
        names_[at] = name;
        break;
      }
    }
  }
  return table;
}

ModelIndex::Names ModelIndex::NamesOf(const fhir::StructInfo* st) const {
  if (st != nullptr) {
    for (uint64_t i = HashAddress(st) >> 32;; ++i) {
      const Table& t = tables_[i & (tables_.size() - 1)];
      if (t.structure == st) return Names(this, &t, st);
      if (t.structure == nullptr) break;
    }
  }
  return Names(this, nullptr, st);
}

MemberType ModelIndex::Names::MatchInModel(std::string_view json_name) const {
  if (structure_ == nullptr) return MemberType{};
  const fhir::ElementMatch m = structure_->Match(json_name);
  if (m.type == nullptr) return MemberType{};
  const fhir::StructInfo* st =
      m.type->structure != nullptr ? m.type->structure : index_->FindStruct(m.type->code);
  return MemberType{m.element, m.type, st, m.type->code};
}

ElementName ModelIndex::Names::FindElement(std::string_view name) const {
  ElementName e;
  if (table_ != nullptr) {
    const Slot* s = index_->Probe(*table_, name);
    if (s == nullptr || !s->is_element_name) return e;
    e.element = s->member.element;
    e.is_choice = s->is_choice;
    if (!e.is_choice && s->member.type != nullptr) {
      e.is_primitive = s->is_primitive;
      e.member = s->member;
    }
    return e;
  }
  if (structure_ == nullptr) return e;
  e.element = structure_->FindElement(name);
  if (e.element == nullptr) return e;
  e.is_choice = e.element->is_choice;
  if (!e.is_choice) {
    e.member = MatchInModel(name);
    e.is_primitive = IsPrimitiveTypeName(e.member.type_name);
  }
  return e;
}

const fhir::StructInfo* ModelIndex::FindStruct(std::string_view name) const {
  const Slot* s = Probe(structs_, name);
  return s != nullptr ? s->member.structure : model_.FindStruct(name);
}

bool ModelIndex::IsA(std::string_view type, std::string_view ancestor) const {
  std::string_view current = type;
  for (int depth = 0; depth < 16 && !current.empty(); ++depth) {
    if (current == ancestor) return true;
    const fhir::StructInfo* st = FindStruct(current);
    if (st == nullptr) return false;
    current = st->base;
  }
  return false;
}

}  // namespace vesta::fhirpath::internal
