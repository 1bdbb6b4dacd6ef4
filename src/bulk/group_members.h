// The patients of a Group (https://hl7.org/fhir/R4/group.html): the Patient entities of its
// members that are not `inactive`, and those of member Groups, recursively (at most 8 deep), each
// once, in member order. Shared by Group/[id]/$export (export_runner.cc) and the `group`
// parameter of $viewdefinition-run (rest/view_run.cc).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::bulk {

// What is reported about a member that gives no patient: severity ("error", "warning",
// "information"), an OperationOutcome issue code and a message naming the member. Returning an
// error stops the resolution with it.
using GroupIssue =
    std::function<Status(std::string_view severity, std::string_view code, const std::string&)>;

// The ids of the group's patients. A group (the one asked for or a member group) that does not
// exist or is deleted, a member that is not a relative reference, a member of another type and a
// patient that does not exist are reported to `issue` and skipped.
Result<std::vector<std::string>> GroupPatients(store::Store& store, const std::string& group_id,
                                               const GroupIssue& issue);

}  // namespace vesta::bulk
