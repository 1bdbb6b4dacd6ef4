// Patient/[id]/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html):
// the patient and every resource in the patient's compartment
// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html), as a searchset Bundle.
//
// Parameters: _since (only resources updated at or after this instant), _type (a comma list of
// resource types), _count (page size). Paging is keyset-based per resource type: the `next`
// link's _cursor holds the type being read and that type's own search cursor, so a deep page
// costs no more than the first. Resources that compartment resources reference but that are
// not in the compartment (Practitioners, Organizations, Medications) are not included yet.
#include <charconv>
#include <set>

#include "base/strings.h"
#include "json/writer.h"
#include "rest/access.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "search/registry.h"

namespace vesta::rest {

Response EverythingInteraction(const Context& ctx, const Request& request,
                               const OutputFormat& format, const Target& target) {
  QueryList params = request.query;
  if (request.method == "POST" && !request.body.empty()) {
    // A Parameters body: take its primitive parameters.
    Result<json::Document> doc = json::Parse(request.body);
    if (!doc.ok()) return ErrorResponse(doc.status());
    if (const json::Value* ps = doc->root().Find("parameter")) {
      for (const json::Value& p : ps->items()) {
        for (const json::Member& m : p.members()) {
          if (m.key.substr(0, 5) == "value") {
            params.emplace_back(std::string(p.FindString("name")),
                                m.value.is_string() ? std::string(m.value.string_value())
                                                    : json::ToString(m.value));
          }
        }
      }
    }
  }
  std::string since;
  std::set<std::string> only_types;
  int count = ctx.options.default_page_size;
  size_t type_index = 0;
  std::string inner_cursor;
  for (const auto& [k, v] : params) {
    if (k == "_since") {
      since = v;
    } else if (k == "_type") {
      for (std::string_view piece : Split(v, ',')) {
        std::string t(piece);
        if (t.empty()) continue;
        if (!ctx.model.IsResourceType(t)) {
          return ErrorResponse(Status(StatusCode::kInvalid, "_type: unknown type '" + t + "'"));
        }
        only_types.insert(t);
      }
    } else if (k == "_count") {
      int n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 1) {
        return ErrorResponse(Status(StatusCode::kInvalid, "_count must be a positive number"));
      }
      count = std::min(n, ctx.options.max_page_size);
    } else if (k == "_cursor") {
      size_t dot = v.find('.');
      if (std::from_chars(v.data(), v.data() + (dot == std::string::npos ? v.size() : dot),
                          type_index)
              .ec != std::errc()) {
        return ErrorResponse(Status(StatusCode::kInvalid, "_cursor is not one this server made"));
      }
      if (dot != std::string::npos) inner_cursor = v.substr(dot + 1);
    } else if (k == "start" || k == "end") {
      return ErrorResponse(Status(StatusCode::kNotSupported,
                                  "$everything: the " + k + " parameter is not supported"));
    } else if (k != "_format" && k != "_pretty") {
      return ErrorResponse(Status(StatusCode::kInvalid, "$everything: unknown parameter '" + k +
                                                            "'; supported: _since, _type, _count"));
    }
  }
  Result<store::StoredVersion> patient = ReadCurrent(ctx, "Patient", target.id);
  if (!patient.ok()) return ErrorResponse(patient.status());
  if (patient->deleted) {
    return ErrorResponse(Status(StatusCode::kGone, "Patient/" + target.id + " was deleted"));
  }
  // The types to read, in a fixed order: Patient first, then the compartment's types.
  std::vector<std::string> types = {"Patient"};
  const search::Registry& registry = search::Registry::Active();
  for (const std::string& t : ctx.model.resource_types()) {
    if (t != "Patient" && !registry.PatientCompartmentParams(t).empty()) types.push_back(t);
  }
  if (!only_types.empty()) {
    std::erase_if(types, [&](const std::string& t) { return !only_types.count(t); });
  }
  std::vector<const store::StoredVersion*> page;
  std::vector<store::SearchPage> pages;  // keep the versions alive
  pages.reserve(types.size());
  std::string next;
  for (; type_index < types.size(); ++type_index) {
    const std::string& type = types[type_index];
    int remaining = count - static_cast<int>(page.size());
    if (remaining <= 0) {
      next = std::to_string(type_index);
      break;
    }
    store::SearchQuery q;
    q.types = {type};
    q.compartment_patient = type == "Patient" ? "" : target.id;
    if (type == "Patient") q.params.emplace_back("_id", target.id);
    if (!since.empty()) q.params.emplace_back("_lastUpdated", "ge" + since);
    q.params.emplace_back("_count", std::to_string(remaining));
    if (!inner_cursor.empty()) q.params.emplace_back("_cursor", inner_cursor);
    inner_cursor.clear();
    q.strict = true;
    q.max_count = ctx.options.max_page_size;
    q.now = ctx.clock.Now();
    // A token sees the types it may search, narrowed as its searches are (rest/access.h).
    if (!NarrowSearch(ctx, request, type, &q).ok()) continue;
    Result<store::SearchPage> found = ctx.store.Search(q);
    if (!found.ok()) return ErrorResponse(found.status());
    pages.push_back(std::move(found).value());
    for (const store::SearchHit& hit : pages.back().entries) {
      if (hit.mode == store::SearchMode::kMatch) page.push_back(&hit.version);
    }
    if (!pages.back().next_cursor.empty()) {
      next = std::to_string(type_index) + "." + pages.back().next_cursor;
      break;
    }
  }
  const std::string base = BaseUrl(ctx, request);
  BundleHead head;
  head.type = "searchset";
  head.id = ctx.ids.NewId();
  head.last_updated = ctx.clock.Now();
  head.links =
      PagingLinks(base + "/Patient/" + target.id + "/$everything", EncodeQuery(params), next);
  head.empty_entries = EmptyEntries::kWriteEmptyArray;
  BundleWriter bundle(head);
  for (const store::StoredVersion* v : page) {
    const std::string full_url = FullUrl(base, v->type, v->id);
    BundleEntry entry;
    entry.full_url = full_url;
    entry.resource = v->json;
    entry.search = SearchEntryMode::kMatch;
    bundle.Add(entry);
  }
  return JsonResponse(bundle.Finish(), format);
}

}  // namespace vesta::rest
