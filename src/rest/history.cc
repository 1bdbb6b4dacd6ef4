// history: GET [base]/[type]/[id]/_history, [base]/[type]/_history, [base]/_history
// (https://hl7.org/fhir/R4/http.html#history)
//
// A Bundle of type history, newest first, one entry per version with request and response
// (a deletion has no resource). Parameters: _count, _since (instant: versions at or after),
// _at (versions current at some moment in the given date's range). Paging is keyset-based: the
// `next` link carries an opaque _cursor and costs the same on every page.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "fhir/datetime.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {
namespace {

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Response HistoryInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                            const Target& target) {
  store::HistoryQuery q;
  q.type = target.type;
  q.id = target.id;
  q.count = ctx.options.default_page_size;
  for (const auto& [name, value] : request.query) {
    if (name == "_count") {
      int64_t n = 0;
      if (!ParseInt(value, &n) || n < 0) {
        return ErrorResponse(Status(StatusCode::kInvalid, "_count must be a whole number"));
      }
      q.count =
          static_cast<int>(std::min<int64_t>(std::max<int64_t>(n, 1), ctx.options.max_page_size));
    } else if (name == "_since") {
      Result<fhir::TimeRange> r = fhir::ParseTimeRange(value);
      if (!r.ok())
        return ErrorResponse(Status(StatusCode::kInvalid, "_since: " + r.status().message()));
      q.since = r->low;
    } else if (name == "_at") {
      Result<fhir::TimeRange> r = fhir::ParseTimeRange(value);
      if (!r.ok())
        return ErrorResponse(Status(StatusCode::kInvalid, "_at: " + r.status().message()));
      q.at = std::make_pair(r->low, r->high);
    } else if (name == "_cursor") {
      size_t sep = value.find('_');
      store::HistoryCursor c;
      if (sep == std::string::npos ||
          !ParseInt(std::string_view(value).substr(0, sep), &c.last_updated) ||
          !ParseInt(std::string_view(value).substr(sep + 1), &c.seq)) {
        return ErrorResponse(Status(StatusCode::kInvalid, "_cursor is not one this server made"));
      }
      q.after = c;
    } else if (name == "_format" || name == "_pretty" || name == "_summary" ||
               name == "_elements") {
      // presentation parameters: carried into the paging links
    } else {
      return ErrorResponse(Status(StatusCode::kInvalid, "unknown parameter '" + name +
                                                            "' for history; supported: "
                                                            "_count, _since, _at"));
    }
  }
  if (!target.id.empty()) {
    Result<store::StoredVersion> cur = ReadCurrent(ctx, target.type, target.id);
    if (!cur.ok()) return ErrorResponse(cur.status());
  }
  Result<ResourceView> view = ParseView(request);
  if (!view.ok()) return ErrorResponse(view.status());
  Result<store::HistoryPage> page = ctx.store.History(q);
  if (!page.ok()) return ErrorResponse(page.status());

  const std::string base = BaseUrl(ctx, request);
  std::string path = base;
  if (!target.type.empty()) path += "/" + target.type;
  if (!target.id.empty()) path += "/" + target.id;
  path += "/_history";
  std::string next_cursor;
  if (page->has_more && !page->entries.empty()) {
    const store::HistoryCursor& c = page->entries.back().cursor;
    next_cursor = std::to_string(c.last_updated) + "_" + std::to_string(c.seq);
  }
  BundleHead head;
  head.type = "history";
  head.id = ctx.ids.NewId();
  head.last_updated = ctx.clock.Now();
  head.total = page->total;
  head.links = PagingLinks(path, EncodeQuery(request.query), next_cursor);
  BundleWriter bundle(head);
  if (view->summary != SummaryMode::kCount) {
    for (const store::HistoryEntry& e : page->entries) {
      const store::StoredVersion& v = e.version;
      const std::string full_url = FullUrl(base, v.type, v.id);
      const std::string relative = v.type + "/" + v.id;
      const bool created = v.version == 1 && !v.deleted;
      std::string body;
      if (!v.deleted) {
        Result<std::string> rendered = RenderResource(v.json, *view, OutputFormat{}, ctx.model);
        if (!rendered.ok()) return ErrorResponse(rendered.status());
        body = std::move(rendered).value();
      }
      BundleEntry entry;
      entry.full_url = full_url;
      entry.resource = body;
      entry.request = BundleEntryRequest{v.deleted ? "DELETE"
                                         : created ? "POST"
                                                   : "PUT",
                                         created ? std::string_view(v.type) : relative};
      entry.response = BundleEntryResponse{v.deleted ? "204"
                                           : created ? "201"
                                                     : "200",
                                           "", v.version, v.last_updated, ""};
      bundle.Add(entry);
    }
  }
  return JsonResponse(bundle.Finish(), format);
}

}  // namespace vesta::rest
