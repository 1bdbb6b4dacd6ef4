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
#include "json/writer.h"
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
  std::string carried;  // the parameters repeated in paging links
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
      continue;
    } else if (name == "_format" || name == "_pretty" || name == "_summary" ||
               name == "_elements") {
      // presentation parameters: carried into links below
    } else {
      return ErrorResponse(Status(StatusCode::kInvalid, "unknown parameter '" + name +
                                                            "' for history; supported: "
                                                            "_count, _since, _at"));
    }
    carried += "&" + PercentEncode(name) + "=" + PercentEncode(value);
  }
  if (!target.id.empty()) {
    Result<store::StoredVersion> cur = ctx.store.Read(target.type, target.id);
    if (!cur.ok()) {
      if (cur.status().code() == StatusCode::kNotFound) {
        return ErrorResponse(
            Status(StatusCode::kNotFound, target.type + "/" + target.id + " is not known"));
      }
      return ErrorResponse(cur.status());
    }
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
  std::string self = path + (request.query.empty() ? "" : "?");
  for (size_t i = 0; i < request.query.size(); ++i) {
    self += (i ? "&" : "") + PercentEncode(request.query[i].first) + "=" +
            PercentEncode(request.query[i].second);
  }

  std::string out = "{\"resourceType\":\"Bundle\",\"id\":\"" + ctx.ids.NewId() +
                    "\",\"meta\":{\"lastUpdated\":\"" + FormatInstant(ctx.clock.Now()) +
                    "\"},\"type\":\"history\",\"total\":" + std::to_string(page->total) +
                    ",\"link\":[{\"relation\":\"self\",\"url\":";
  json::WriteString(self, &out);
  out += "}";
  if (page->has_more && !page->entries.empty()) {
    const store::HistoryCursor& c = page->entries.back().cursor;
    std::string next =
        path + "?_cursor=" + std::to_string(c.last_updated) + "_" + std::to_string(c.seq) + carried;
    out += ",{\"relation\":\"next\",\"url\":";
    json::WriteString(next, &out);
    out += "}";
  }
  out += "]";
  if (view->summary != SummaryMode::kCount && !page->entries.empty()) {
    out += ",\"entry\":[";
    bool first = true;
    for (const store::HistoryEntry& e : page->entries) {
      const store::StoredVersion& v = e.version;
      if (!first) out += ",";
      first = false;
      std::string rel = v.type + "/" + v.id;
      out += "{\"fullUrl\":";
      json::WriteString(base + "/" + rel, &out);
      if (!v.deleted) {
        Result<std::string> body = RenderResource(v.json, *view, OutputFormat{}, ctx.model);
        if (!body.ok()) return ErrorResponse(body.status());
        out += ",\"resource\":" + *body;
      }
      const char* method = v.deleted ? "DELETE" : v.version == 1 ? "POST" : "PUT";
      out += ",\"request\":{\"method\":\"";
      out += method;
      out += "\",\"url\":";
      json::WriteString(v.version == 1 && !v.deleted ? v.type : rel, &out);
      out += "},\"response\":{\"status\":\"";
      out += v.deleted ? "204" : v.version == 1 ? "201" : "200";
      out += "\",\"etag\":\"W/\\\"" + std::to_string(v.version) + "\\\"\",\"lastModified\":\"" +
             FormatInstant(v.last_updated) + "\"}}";
    }
    out += "]";
  }
  out += "}";
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(out), format);
  return r;
}

}  // namespace vesta::rest
