// The audit trail through the API (docs/security.md, "Audit trail"): GET [base]/AuditEvent?...
// and GET [base]/AuditEvent/[seq]. The records are the store's audit chain (Store::SearchAudit),
// not resources of the store: a record's id is its sequence number, and they cannot be written
// through the API (access.cc). The search parameters are those of
// https://hl7.org/fhir/R4/auditevent.html#search that an auditor asks with: date (with the
// prefixes eq, ge, gt, le, lt; repeatable), patient, agent (the user, "Practitioner/7"), entity
// (the resource, "Type/id") and outcome, newest first, in pages (_count, _cursor). Any other
// parameter is refused rather than ignored, so that a search is never wider than asked.
// A token needs AuditEvent's s (search) or r (read) permission; patient/ scopes see the records
// of their patient only.
#include <algorithm>
#include <cctype>
#include <charconv>

#include "audit/record.h"
#include "fhir/datetime.h"
#include "rest/access.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {
namespace {

// The AuditEvent of a stored record, with its sequence number as its id.
std::string WithSeqId(const std::string& record, int64_t seq) {
  return audit::StoredAuditEvent(record, std::to_string(seq));
}

// "Patient/p1" or "p1" as the id; "" when it names another type.
std::string PatientId(std::string_view value) {
  if (value.starts_with("Patient/")) return std::string(value.substr(8));
  if (value.find('/') != std::string_view::npos) return "";
  return std::string(value);
}

// A date parameter's value narrowed into [from, until).
Status ApplyDate(std::string_view value, store::AuditSearch* q) {
  std::string_view prefix = "eq";
  if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0])) &&
      std::isalpha(static_cast<unsigned char>(value[1]))) {
    prefix = value.substr(0, 2);
    value.remove_prefix(2);
  }
  Result<fhir::TimeRange> range = fhir::ParseTimeRange(value);
  if (!range.ok()) return Invalid("date: " + range.status().message());
  auto at_least = [&](Micros from) { q->from = std::max(q->from, from); };
  auto before = [&](Micros until) { q->until = q->until == 0 ? until : std::min(q->until, until); };
  if (prefix == "eq") {
    at_least(range->low);
    before(range->high + 1);
  } else if (prefix == "ge") {
    at_least(range->low);
  } else if (prefix == "gt") {
    at_least(range->high + 1);
  } else if (prefix == "le") {
    before(range->high + 1);
  } else if (prefix == "lt") {
    before(range->low);
  } else {
    return Invalid("date: the prefix is eq, ge, gt, le or lt, not '" + std::string(prefix) + "'");
  }
  return Status::Ok();
}

}  // namespace

Response AuditSearchInteraction(const Context& ctx, const Request& request,
                                const OutputFormat& format) {
  store::AuditSearch q;
  int count = ctx.options.default_page_size;
  for (const auto& [name, value] : request.query) {
    if (name == "date") {
      if (Status s = ApplyDate(value, &q); !s.ok()) return ErrorResponse(s);
    } else if (name == "patient") {
      q.patient = PatientId(value);
      if (q.patient.empty()) return ErrorResponse(Invalid("patient: Patient/[id] or [id]"));
    } else if (name == "agent") {
      q.agent = value;
    } else if (name == "entity") {
      q.entity = value;
    } else if (name == "outcome") {
      if (value != "0" && value != "4" && value != "8" && value != "12") {
        return ErrorResponse(Invalid("outcome: 0, 4, 8 or 12"));
      }
      std::from_chars(value.data(), value.data() + value.size(), q.outcome);
    } else if (name == "_count") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (ec != std::errc() || count < 1) return ErrorResponse(Invalid("_count: a number >= 1"));
      count = std::min(count, ctx.options.max_page_size);
    } else if (name == "_cursor") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), q.before_seq);
      if (ec != std::errc() || q.before_seq < 1)
        return ErrorResponse(Invalid("_cursor is malformed"));
    } else if (name != "_format") {
      return ErrorResponse(
          Invalid("AuditEvent is searched by date, patient, agent, entity and "
                  "outcome; '" +
                  name + "' is not one of them"));
    }
  }
  Result<Restriction> r = RestrictionFor(request, auth::Permission::kSearch, "AuditEvent");
  if (!r.ok()) return ErrorResponse(r.status());
  if (!r->constraints.empty()) {
    return ErrorResponse(
        Forbidden("granular scopes on AuditEvent are not applied to the audit "
                  "trail; ask for AuditEvent.s without a query"));
  }
  if (!r->patient.empty()) {
    if (!q.patient.empty() && q.patient != r->patient) {
      return ErrorResponse(
          Forbidden("the token is limited to the records of Patient/" + r->patient));
    }
    q.patient = r->patient;
  }
  q.limit = count + 1;
  Result<std::vector<store::AuditEntry>> found = ctx.store.SearchAudit(q);
  if (!found.ok()) return ErrorResponse(found.status());
  const bool more = static_cast<int>(found->size()) > count;
  if (more) found->resize(static_cast<size_t>(count));

  const std::string base = BaseUrl(ctx, request);
  QueryList carried;
  for (const auto& [name, value] : request.query) {
    if (name != "_cursor" && name != "_format") carried.emplace_back(name, value);
  }
  BundleHead head;
  head.type = "searchset";
  head.id = ctx.ids.NewId();
  head.last_updated = ctx.clock.Now();
  head.links = PagingLinks(base + "/AuditEvent", EncodeQuery(carried),
                           more ? std::to_string(found->back().seq) : "");
  BundleWriter bundle(head);
  for (const store::AuditEntry& e : *found) {
    // (BundleEntry holds views: the strings live until Add has copied them.)
    const std::string full_url = base + "/AuditEvent/" + std::to_string(e.seq);
    const std::string resource = WithSeqId(e.record, e.seq);
    BundleEntry entry;
    entry.full_url = full_url;
    entry.resource = resource;
    entry.search = SearchEntryMode::kMatch;
    bundle.Add(entry);
  }
  return JsonResponse(bundle.Finish(), format);
}

Response AuditReadInteraction(const Context& ctx, const Request& request,
                              const OutputFormat& format, const std::string& id) {
  int64_t seq = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), seq);
  if (ec != std::errc() || p != id.data() + id.size() || seq < 1) {
    return ErrorResponse(NotFound("AuditEvent/" + id + " is not known"));
  }
  Result<Restriction> r = RestrictionFor(request, auth::Permission::kRead, "AuditEvent");
  if (!r.ok()) return ErrorResponse(r.status());
  if (r->any()) {
    // Found by a search within the token's limits, or refused whether or not it exists.
    store::AuditSearch q;
    q.patient = r->patient;
    q.before_seq = seq + 1;
    q.limit = 1;
    Result<std::vector<store::AuditEntry>> visible = ctx.store.SearchAudit(q);
    if (!visible.ok()) return ErrorResponse(visible.status());
    if (!r->constraints.empty() || visible->empty() || visible->front().seq != seq) {
      return ErrorResponse(Forbidden("AuditEvent/" + id + " is not within what the token allows"));
    }
  }
  Result<std::vector<store::AuditEntry>> found = ctx.store.ReadAudit(seq - 1, 1);
  if (!found.ok()) return ErrorResponse(found.status());
  if (found->empty() || found->front().seq != seq) {
    return ErrorResponse(NotFound("AuditEvent/" + id + " is not known"));
  }
  Response out;
  out.SetHeader("Content-Type", ContentType(format));
  out.body = RenderJson(WithSeqId(found->front().record, seq), format);
  return out;
}

}  // namespace vesta::rest
