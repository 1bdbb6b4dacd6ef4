// The patients of a Group (group_members.h).
#include "bulk/group_members.h"

#include <set>

#include "json/parse.h"
#include "search/extract.h"

namespace vesta::bulk {
namespace {

struct Walk {
  store::Store& store;
  const GroupIssue& issue;
  std::set<std::string> visited;
  std::set<std::string> seen;
  std::vector<std::string> patients;

  Status Add(const std::string& group_id, int depth) {
    if (!visited.insert(group_id).second) return Status::Ok();
    if (depth > 8)
      return issue("error", "too-costly", "Group/" + group_id + ": groups nested too deeply");
    Result<store::StoredVersion> g = store.Read("Group", group_id);
    if (!g.ok() || g->deleted) {
      return issue(
          "error", "not-found",
          "Group/" + group_id + (depth == 0 ? " is not known" : ", a member group, is not known"));
    }
    Result<json::Document> doc = json::Parse(g->json);
    if (!doc.ok()) return doc.status();
    const json::Value* members = doc->root().Find("member");
    if (members == nullptr) return Status::Ok();
    int index = 0;
    for (const json::Value& m : members->items()) {
      const std::string where =
          "Group/" + group_id + ": Group.member[" + std::to_string(index++) + "]";
      if (const json::Value* inactive = m.Find("inactive");
          inactive != nullptr && inactive->is_bool() && inactive->bool_value()) {
        continue;
      }
      const json::Value* entity = m.Find("entity");
      std::string ref = entity == nullptr ? "" : std::string(entity->FindString("reference"));
      std::string type, id;
      if (!search::SplitReference(ref, &type, &id)) {
        RETURN_IF_ERROR(
            issue("warning", "not-found", where + " has no relative reference; it was skipped"));
        continue;
      }
      if (type == "Group") {
        RETURN_IF_ERROR(Add(id, depth + 1));
        continue;
      }
      if (type != "Patient") {
        RETURN_IF_ERROR(
            issue("information", "informational",
                  where + " is " + type + "/" + id + ", not a Patient; it has no compartment"));
        continue;
      }
      Result<store::StoredVersion> p = store.Read("Patient", id);
      if (!p.ok() || p->deleted) {
        RETURN_IF_ERROR(issue("error", "not-found", where + ": Patient/" + id + " is not known"));
        continue;
      }
      if (seen.insert(id).second) patients.push_back(id);
    }
    return Status::Ok();
  }
};

}  // namespace

Result<std::vector<std::string>> GroupPatients(store::Store& store, const std::string& group_id,
                                               const GroupIssue& issue) {
  Walk walk{store, issue, {}, {}, {}};
  RETURN_IF_ERROR(walk.Add(group_id, 0));
  return std::move(walk.patients);
}

}  // namespace vesta::bulk
