#include "ingest/resource_group.h"

#include <unordered_map>

#include "ingest/references.h"

namespace vesta::ingest {

std::vector<Fate> ResolveGroup(Group& group, const std::function<bool(const std::string&)>& exists,
                               Pass pass) {
  std::vector<Fate> fate(group.size(), Fate::kWrite);
  std::unordered_map<std::string, size_t> members;  // key -> the last member with it
  for (size_t i = 0; i < group.size(); ++i) {
    if (!group[i].status.ok()) {
      fate[i] = Fate::kReject;
    } else if (!group[i].matched_existing) {
      members[group[i].key()] = i;
    }
  }
  // Each member's references to other members, and what is unresolved outside the group.
  std::vector<std::vector<size_t>> deps(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    if (fate[i] == Fate::kReject) continue;
    Prepared& p = group[i];
    std::vector<std::string> still_missing;
    std::string first_unresolved;
    for (std::string& ref : p.missing) {
      if (IsConditionalReference(ref)) {
        if (first_unresolved.empty()) first_unresolved = ref;
        still_missing.push_back(std::move(ref));
        continue;
      }
      auto member = members.find(ref);
      if (member != members.end()) {
        if (member->second != i) deps[i].push_back(member->second);
        still_missing.push_back(std::move(ref));  // kept: a deferred group is retried together
        continue;
      }
      if (exists(ref)) continue;
      if (first_unresolved.empty()) first_unresolved = ref;
      still_missing.push_back(std::move(ref));
    }
    p.missing = std::move(still_missing);
    if (first_unresolved.empty()) continue;
    if (pass == Pass::kEarly) {
      fate[i] = Fate::kDefer;
    } else {
      fate[i] = Fate::kReject;
      p.status = Status(StatusCode::kInvalid,
                        IsConditionalReference(first_unresolved)
                            ? "the conditional reference '" + first_unresolved +
                                  "' matches no resource (in the store or in the input)"
                            : "the reference to " + first_unresolved +
                                  " names no resource in the store or in the input "
                                  "(referential integrity; --referential-integrity off skips "
                                  "the check)");
    }
  }
  // Members follow the members they reference.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < group.size(); ++i) {
      if (fate[i] == Fate::kReject) continue;
      for (size_t j : deps[i]) {
        if (fate[j] == Fate::kReject) {
          fate[i] = Fate::kReject;
          group[i].status =
              Status(StatusCode::kInvalid, "it references " + group[j].key() + " (" +
                                               group[j].where + "), which is rejected");
          changed = true;
          break;
        }
        if (fate[j] == Fate::kDefer && fate[i] == Fate::kWrite) {
          fate[i] = Fate::kDefer;
          changed = true;
        }
      }
    }
  }
  return fate;
}

std::string OneLine(const Status& status) {
  std::string out;
  const std::vector<Issue>& issues = status.issues();
  if (issues.size() == 1 && issues[0].diagnostics == status.message()) {
    // One problem: its location and what it is.
    if (!issues[0].location.empty()) out = issues[0].location + ": ";
    out += status.message();
  } else {
    out = status.message();
    for (const Issue& issue : issues) {
      out += "; ";
      if (!issue.location.empty()) out += issue.location + ": ";
      out += issue.diagnostics;
    }
  }
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace vesta::ingest
