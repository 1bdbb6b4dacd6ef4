// search: GET [base]/[type]?..., POST [base]/[type]/_search (form body), compartment search
// GET [base]/Patient/[id]/[type]?..., system search GET [base]/?_type=...
// (https://hl7.org/fhir/R4/http.html#search, https://hl7.org/fhir/R4/search.html)
//
// The store parses and runs the search (store::Store::Search, src/search); this file gathers
// the parameters, reads Prefer: handling, and renders the searchset Bundle: matches with
// search.mode = match, _include/_revinclude targets with mode = include, `total` when known, and
// self/next links. Paging is keyset-based: `next` carries an opaque _cursor.
#include <algorithm>
#include <map>

#include "base/strings.h"
#include "rest/access.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {
namespace {

// application/x-www-form-urlencoded (https://hl7.org/fhir/R4/http.html#search: POST _search):
// the query-string syntax, with trailing line ends some clients add.
Result<QueryList> ParseForm(std::string_view body) {
  Result<QueryList> form = ParseQueryString(TrimRight(body, "\r\n"));
  if (!form.ok()) return Status(StatusCode::kInvalid, "the _search form body has a bad %-escape");
  return form;
}

}  // namespace

Response SearchInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target, const std::string& compartment_patient) {
  store::SearchQuery q;
  if (!target.type.empty()) q.types.push_back(target.type);
  q.params = request.query;
  if (request.method == "POST") {
    std::string_view ct = request.Header("Content-Type");
    if (!ct.empty() && ct.find("application/x-www-form-urlencoded") == std::string_view::npos) {
      return ErrorResponse(Status(StatusCode::kUnsupportedMedia,
                                  "POST _search takes an application/x-www-form-urlencoded body"));
    }
    Result<QueryList> form = ParseForm(request.body);
    if (!form.ok()) return ErrorResponse(form.status());
    q.params.insert(q.params.end(), form->begin(), form->end());
  }
  // Token :below / :above / :in / :not-in stand for code sets (terminology_search.cc).
  Result<std::map<size_t, search::CodeSet>> code_sets =
      ExpandTerminologyModifiers(ctx, request, q.types, q.params);
  if (!code_sets.ok()) return ErrorResponse(code_sets.status());
  q.code_sets = std::move(code_sets).value();
  q.compartment_patient = compartment_patient;
  // The token's scopes narrow the search (rest/access.h).
  if (Status s = NarrowSearch(ctx, request, target.type, &q); !s.ok()) return ErrorResponse(s);
  // https://hl7.org/fhir/R4/search.html#errors
  q.strict = request.Header("Prefer").find("handling=strict") != std::string_view::npos;
  q.default_count = ctx.options.default_page_size;
  q.max_count = ctx.options.max_page_size;
  q.now = ctx.clock.Now();

  Request view_request;
  view_request.query = q.params;
  Result<ResourceView> view = ParseView(view_request);
  if (!view.ok()) return ErrorResponse(view.status());
  if (view->summary == SummaryMode::kCount) {
    // _summary=count is answered by the store with the total only.
    bool has = std::any_of(q.params.begin(), q.params.end(),
                           [](const auto& p) { return p.first == "_summary"; });
    if (!has) q.params.emplace_back("_summary", "count");
  }

  Result<store::SearchPage> page = ctx.store.Search(q);
  if (!page.ok()) return ErrorResponse(page.status());
  if (Status s = FilterIncluded(ctx, request, &page->entries); !s.ok()) return ErrorResponse(s);

  const std::string base = BaseUrl(ctx, request);
  std::string path = base;
  if (!q.compartment_patient.empty() && q.compartment_patient == compartment_patient) {
    path += "/Patient/" + compartment_patient;
  }
  path += "/" + target.type;  // system search: [base]/?_type=...
  // The self link shows the parameters the search used (unknown ones ignored under lenient
  // handling are left out).
  const std::string carried = EncodeQuery(page->used_params);

  BundleHead head;
  head.type = "searchset";
  head.id = ctx.ids.NewId();
  head.last_updated = ctx.clock.Now();
  head.total = page->total;
  head.links = PagingLinks(path, carried, page->next_cursor);
  BundleWriter bundle(head);
  for (const store::SearchHit& hit : page->entries) {
    const store::StoredVersion& v = hit.version;
    Result<std::string> body = RenderResource(v.json, *view, OutputFormat{}, ctx.model);
    if (!body.ok()) return ErrorResponse(body.status());
    const std::string full_url = FullUrl(base, v.type, v.id);
    BundleEntry entry;
    entry.full_url = full_url;
    entry.resource = *body;
    entry.search =
        hit.mode == store::SearchMode::kMatch ? SearchEntryMode::kMatch : SearchEntryMode::kInclude;
    bundle.Add(entry);
  }
  return JsonResponse(bundle.Finish(), format);
}

}  // namespace vesta::rest
