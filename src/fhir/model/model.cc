#include "fhir/model/model.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "base/strings.h"

namespace vesta::fhir {

extern const char kR4ModelText[];

namespace {

std::string UpperFirst(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = Upper(out[0]);
  return out;
}

}  // namespace

ElementMatch StructInfo::Match(std::string_view json_name) const {
  ElementMatch m;
  bool underscore = !json_name.empty() && json_name[0] == '_';
  if (underscore) json_name.remove_prefix(1);
  auto it = json_names.find(json_name);
  if (it == json_names.end()) return m;
  m.element = &elements[it->second.first];
  m.type = &m.element->types[it->second.second];
  m.is_primitive_extension = underscore;
  return m;
}

const ElementInfo* StructInfo::FindElement(std::string_view name) const {
  for (const ElementInfo& e : elements) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

Result<std::unique_ptr<Model>> Model::FromText(std::string_view text) {
  auto model = std::make_unique<Model>();
  StructInfo* current_type = nullptr;
  // Elements refer to types defined later in the text: resolve names after the first pass.
  struct Pending {
    StructInfo* owner;
    size_t element;
    std::string content_ref;
  };
  std::vector<Pending> pending;
  size_t line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '|');
    auto bad = [&] {
      return Status(StatusCode::kInternal,
                    "model text line " + std::to_string(line_no) + " is malformed");
    };
    if (f[0] == "T") {
      if (f.size() != 5) return bad();
      auto s = std::make_unique<StructInfo>();
      s->name = std::string(f[1]);
      s->kind = f[2] == "primitive"  ? TypeKind::kPrimitive
                : f[2] == "resource" ? TypeKind::kResource
                                     : TypeKind::kComplex;
      s->base = std::string(f[3]);
      s->is_abstract = f[4] == "1";
      current_type = s.get();
      model->structs_[s->name] = std::move(s);
    } else if (f[0] == "E") {
      if (f.size() != 7 || current_type == nullptr) return bad();
      std::string_view path = f[1];
      size_t dot = path.rfind('.');
      std::string parent_path(path.substr(0, dot));
      StructInfo* parent;
      auto it = model->structs_.find(parent_path);
      if (it == model->structs_.end() || parent_path.find('.') == std::string::npos) {
        if (it == model->structs_.end()) {
          // The first child of an inline structure: the structure is its parent element.
          auto s = std::make_unique<StructInfo>();
          s->name = parent_path;
          s->kind = TypeKind::kBackbone;
          parent = s.get();
          model->structs_[parent_path] = std::move(s);
        } else {
          parent = it->second.get();
        }
      } else {
        parent = it->second.get();
      }
      ElementInfo e;
      e.path = std::string(path);
      std::string_view name = path.substr(dot + 1);
      if (name.size() > 3 && name.substr(name.size() - 3) == "[x]") {
        e.is_choice = true;
        name.remove_suffix(3);
      }
      e.name = std::string(name);
      int min = 0;
      std::from_chars(f[2].data(), f[2].data() + f[2].size(), min);
      e.min = static_cast<uint32_t>(min);
      if (f[3] == "*") {
        e.max = kUnbounded;
      } else {
        int max = 1;
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), max);
        e.max = static_cast<uint32_t>(max);
      }
      if (!f[4].empty()) {
        for (std::string_view t : Split(f[4], ',')) {
          std::vector<std::string_view> parts = Split(t, '>');
          TypeRef ref;
          ref.code = std::string(parts[0]);
          for (size_t i = 1; i < parts.size(); ++i) ref.target_types.emplace_back(parts[i]);
          e.types.push_back(std::move(ref));
        }
      }
      e.is_summary = f[5].find('s') != std::string_view::npos;
      e.is_modifier = f[5].find('m') != std::string_view::npos;
      parent->elements.push_back(std::move(e));
      pending.push_back({parent, parent->elements.size() - 1, std::string(f[6])});
    } else {
      return bad();
    }
  }
  // Resolve type references and content references; build the JSON name maps.
  for (Pending& p : pending) {
    ElementInfo& e = p.owner->elements[p.element];
    if (!p.content_ref.empty()) {
      auto it = model->structs_.find(p.content_ref);
      if (it == model->structs_.end()) {
        return Status(StatusCode::kInternal, "unresolved contentReference " + p.content_ref);
      }
      e.types = {TypeRef{"BackboneElement", it->second.get(), {}}};
      continue;
    }
    for (TypeRef& t : e.types) {
      if (t.code == "BackboneElement" || t.code == "Element") {
        auto inl = model->structs_.find(e.path);
        if (inl != model->structs_.end() && inl->second->kind == TypeKind::kBackbone) {
          t.structure = inl->second.get();
          continue;
        }
      }
      if (t.code == "Resource") continue;  // any resource, by its resourceType
      auto it = model->structs_.find(t.code);
      if (it != model->structs_.end() && it->second->kind != TypeKind::kPrimitive) {
        t.structure = it->second.get();
      }
    }
  }
  for (auto& [name, s] : model->structs_) {
    for (uint32_t i = 0; i < s->elements.size(); ++i) {
      const ElementInfo& e = s->elements[i];
      if (!e.is_choice) {
        s->json_names[e.name] = {i, 0};
        continue;
      }
      for (uint32_t t = 0; t < e.types.size(); ++t) {
        s->json_names[e.name + UpperFirst(e.types[t].code)] = {i, t};
      }
    }
    if (s->kind == TypeKind::kResource && !s->is_abstract) model->resource_types_.push_back(name);
  }
  std::sort(model->resource_types_.begin(), model->resource_types_.end());
  return model;
}

const Model& Model::R4() {
  static const Model* model = [] {
    auto loaded = FromText(kR4ModelText);
    if (!loaded.ok()) {
      std::fprintf(stderr, "fatal: embedded R4 model: %s\n", loaded.status().message().c_str());
      std::abort();
    }
    return std::move(loaded).value().release();
  }();
  return *model;
}

const StructInfo* Model::FindStruct(std::string_view name) const {
  auto it = structs_.find(name);
  return it == structs_.end() ? nullptr : it->second.get();
}

bool Model::IsResourceType(std::string_view name) const {
  const StructInfo* s = FindStruct(name);
  return s != nullptr && s->kind == TypeKind::kResource;
}

bool Model::IsPrimitiveType(std::string_view name) const {
  const StructInfo* s = FindStruct(name);
  return s != nullptr && s->kind == TypeKind::kPrimitive;
}

bool Model::IsA(std::string_view type, std::string_view ancestor) const {
  std::string current(type);
  for (int depth = 0; depth < 16 && !current.empty(); ++depth) {
    if (current == ancestor) return true;
    const StructInfo* s = FindStruct(current);
    if (s == nullptr) return false;
    current = s->base;
  }
  return false;
}

}  // namespace vesta::fhir
