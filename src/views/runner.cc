// Running a View over one resource (runner.h).
#include "views/runner.h"

namespace vesta::views {
namespace {

using fhirpath::Collection;
using fhirpath::Item;

// Recursion bound for repeat: deeper nesting than this is taken for a cycle-like pathology.
constexpr int kMaxRepeatDepth = 64;

std::string Where(const json::Value& resource) {
  std::string out(resource.FindString("resourceType"));
  std::string_view id = resource.FindString("id");
  if (!id.empty()) out += "/" + std::string(id);
  return out;
}

// Each row of `rows` joined with each row of `part`, whose values are in [begin, end).
std::vector<Row> Cross(std::vector<Row> rows, std::vector<Row>& part, size_t begin, size_t end) {
  if (part.size() == 1) {
    for (Row& r : rows) {
      for (size_t i = begin; i < end; ++i) {
        r[i] = rows.size() == 1 ? std::move(part[0][i]) : part[0][i];
      }
    }
    return rows;
  }
  std::vector<Row> out;
  out.reserve(rows.size() * part.size());
  for (const Row& r : rows) {
    for (const Row& p : part) {
      Row joined = r;
      for (size_t i = begin; i < end; ++i) joined[i] = p[i];
      out.push_back(std::move(joined));
    }
  }
  return out;
}

bool Flat(const std::vector<CompiledSelect>& selects) {
  for (const CompiledSelect& s : selects) {
    if (s.iteration != CompiledSelect::Iteration::kNone || !s.selects.empty() ||
        !s.union_all.empty()) {
      return false;
    }
  }
  return true;
}

}  // namespace

Runner::Runner(const View& view)
    : view_(view),
      width_(view.columns().size()),
      env_(view.environment()),
      flat_(Flat(view.selects())),
      row_(width_) {
  row_index_ = &env_.variables["rowIndex"];
  *row_index_ = Collection{Item::Integer(0)};
}

Status Runner::EvaluateInto(const fhirpath::Expression& e, const Item& node, int64_t row_index,
                            Collection* out) {
  (*row_index_)[0] = Item::Integer(row_index);
  out->clear();
  return e.EvaluateInto(std::span<const Item>(&node, 1), resource_, env_, out);
}

Result<Collection> Runner::Evaluate(const fhirpath::Expression& e, const Item& node,
                                    int64_t row_index) {
  Collection out;
  RETURN_IF_ERROR(EvaluateInto(e, node, row_index, &out));
  return out;
}

// Process(S, N) for selects of columns only: each gives one row, and the cross join of single
// rows is one row holding every column.
Status Runner::RunFlat(const Item& root) {
  for (const CompiledSelect& s : view_.selects()) {
    for (const CompiledColumn& c : s.columns) {
      Collection& cell = row_[c.slot];
      Status st = EvaluateInto(c.path, root, 0, &cell);
      if (!st.ok()) {
        return Invalid(Where(*resource_) + ": " + c.location + ".path: " + st.message());
      }
      if (cell.size() > 1 && !c.collection) {
        return Invalid(Where(*resource_) + ": " + c.location + " (" + view_.columns()[c.slot].name +
                       "): " + std::to_string(cell.size()) +
                       " values for a column that is not a collection (set collection: true)");
      }
    }
  }
  return Status::Ok();
}

Status Runner::Run(const json::Value& resource, const std::function<void(const Row&)>& emit) {
  // "If R.resourceType is different from V.resource, return immediately without emitting any
  // rows."
  if (!resource.is_object() || resource.FindString("resourceType") != view_.resource_type()) {
    return Status::Ok();
  }
  resource_ = &resource;
  // Every resource run is of the view's type, so its item differs from the first one's only in
  // its JSON: the type is looked up once.
  if (!root_type_known_) {
    root_ = fhirpath::ResourceItem(resource);
    root_type_known_ = true;
  }
  Item root = root_;
  root.node = &resource;
  for (size_t i = 0; i < view_.where().size(); ++i) {
    Status st = EvaluateInto(view_.where()[i], root, 0, &where_);
    auto at = [&] { return Where(resource) + ": where[" + std::to_string(i) + "].path"; };
    if (!st.ok()) return Invalid(at() + ": " + st.message());
    if (where_.empty()) return Status::Ok();
    Item b;
    if (where_.size() != 1 || !fhirpath::ToSystem(where_[0], &b) ||
        b.kind != fhirpath::ItemKind::kBoolean) {
      return Invalid(at() + ": must evaluate to a single Boolean, not " +
                     fhirpath::CollectionToJson(where_));
    }
    if (!b.as_bool()) return Status::Ok();
  }
  if (flat_) {
    RETURN_IF_ERROR(RunFlat(root));
    emit(row_);
    return Status::Ok();
  }
  // The top-level selects are siblings: cross-joined like the nested selects of a select.
  std::vector<Row> rows{Row(width_)};
  for (const CompiledSelect& s : view_.selects()) {
    std::vector<Row> part;
    RETURN_IF_ERROR(Process(s, root, 0, &part));
    rows = Cross(std::move(rows), part, s.slot_begin, s.slot_end);
    if (rows.empty()) return Status::Ok();
  }
  for (const Row& r : rows) emit(r);
  return Status::Ok();
}

Status Runner::Repeat(const CompiledSelect& s, const Item& node, int depth, Collection* out) {
  if (depth > kMaxRepeatDepth) {
    return Invalid(s.location + ".repeat: nested deeper than " + std::to_string(kMaxRepeatDepth));
  }
  for (size_t p = 0; p < s.iterate.size(); ++p) {
    Result<Collection> children = Evaluate(s.iterate[p], node, 0);
    if (!children.ok()) {
      return Invalid(s.location + ".repeat[" + std::to_string(p) +
                     "]: " + children.status().message());
    }
    for (const Item& c : *children) {
      out->push_back(c);
      RETURN_IF_ERROR(Repeat(s, c, depth + 1, out));
    }
  }
  return Status::Ok();
}

Status Runner::Process(const CompiledSelect& s, const Item& node, int64_t row_index,
                       std::vector<Row>* out) {
  auto fail = [&](const std::string& where, const Status& st) {
    return Invalid(Where(*resource_) + ": " + where + ": " + st.message());
  };
  Collection foci;
  bool iterated = true;
  switch (s.iteration) {
    case CompiledSelect::Iteration::kNone:
      foci.push_back(node);
      iterated = false;
      break;
    case CompiledSelect::Iteration::kForEach:
    case CompiledSelect::Iteration::kForEachOrNull: {
      Result<Collection> r = Evaluate(s.iterate[0], node, row_index);
      if (!r.ok()) {
        return fail(
            s.location + (s.iteration == CompiledSelect::Iteration::kForEach ? ".forEach"
                                                                             : ".forEachOrNull"),
            r.status());
      }
      foci = std::move(*r);
      break;
    }
    case CompiledSelect::Iteration::kRepeat: {
      Status st = Repeat(s, node, 0, &foci);
      if (!st.ok()) return Invalid(Where(*resource_) + ": " + st.message());
      break;
    }
  }
  for (size_t f = 0; f < foci.size(); ++f) {
    // "Set %rowIndex to i for this iteration level"; a select without iteration keeps its
    // parent's.
    const int64_t index = iterated ? static_cast<int64_t>(f) : row_index;
    std::vector<Row> rows{Row(width_)};
    for (const CompiledColumn& c : s.columns) {
      Result<Collection> v = Evaluate(c.path, foci[f], index);
      if (!v.ok()) return fail(c.location + ".path", v.status());
      if (v->size() > 1 && !c.collection) {
        return Invalid(Where(*resource_) + ": " + c.location + " (" + view_.columns()[c.slot].name +
                       "): " + std::to_string(v->size()) +
                       " values for a column that is not a collection (set collection: true)");
      }
      rows[0][c.slot] = std::move(*v);
    }
    for (const CompiledSelect& child : s.selects) {
      std::vector<Row> part;
      RETURN_IF_ERROR(Process(child, foci[f], index, &part));
      rows = Cross(std::move(rows), part, child.slot_begin, child.slot_end);
      if (rows.empty()) break;
    }
    if (!s.union_all.empty() && !rows.empty()) {
      std::vector<Row> part;
      for (const CompiledSelect& u : s.union_all) {
        RETURN_IF_ERROR(Process(u, foci[f], index, &part));
      }
      rows = Cross(std::move(rows), part, s.union_all[0].slot_begin, s.union_all[0].slot_end);
    }
    for (Row& r : rows) out->push_back(std::move(r));
  }
  // "If foci is an empty list and S.forEachOrNull is defined": one row of nulls, %rowIndex 0.
  if (foci.empty() && s.iteration == CompiledSelect::Iteration::kForEachOrNull) {
    Row r(width_);
    for (size_t slot : s.row_index_slots) r[slot] = Collection{Item::Integer(0)};
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace vesta::views
