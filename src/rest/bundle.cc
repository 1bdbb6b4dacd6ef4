#include "rest/bundle.h"

#include "json/writer.h"
#include "rest/context.h"
#include "rest/url.h"

namespace vesta::rest {
namespace {

// Appends `,"key":"value"` (escaped).
void AppendString(std::string_view key, std::string_view value, std::string* out) {
  *out += ",\"";
  *out += key;
  *out += "\":";
  json::WriteString(value, out);
}

}  // namespace

BundleWriter::BundleWriter(const BundleHead& head) : empty_entries_(head.empty_entries) {
  out_ = "{\"resourceType\":\"Bundle\"";
  AppendString("id", head.id, &out_);
  if (head.last_updated) {
    out_ += ",\"meta\":{\"lastUpdated\":";
    json::WriteString(FormatInstant(*head.last_updated), &out_);
    out_ += "}";
  }
  AppendString("type", head.type, &out_);
  if (head.total) out_ += ",\"total\":" + std::to_string(*head.total);
  if (!head.links.empty()) {
    out_ += ",\"link\":[";
    for (size_t i = 0; i < head.links.size(); ++i) {
      out_ += i == 0 ? "{\"relation\":" : ",{\"relation\":";
      json::WriteString(head.links[i].relation, &out_);
      AppendString("url", head.links[i].url, &out_);
      out_ += "}";
    }
    out_ += "]";
  }
}

void BundleWriter::Add(const BundleEntry& entry) {
  out_ += entries_++ == 0 ? ",\"entry\":[{" : ",{";
  const char* comma = "";  // before every member but the first
  auto key = [&](std::string_view name) {
    out_ += comma;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    comma = ",";
  };
  if (!entry.full_url.empty()) {
    key("fullUrl");
    json::WriteString(entry.full_url, &out_);
  }
  if (!entry.resource.empty()) {
    key("resource");
    out_ += entry.resource;
  }
  if (entry.search != SearchEntryMode::kNone) {
    key("search");
    out_ +=
        entry.search == SearchEntryMode::kMatch ? "{\"mode\":\"match\"}" : "{\"mode\":\"include\"}";
  }
  if (entry.request) {
    key("request");
    out_ += "{\"method\":";
    json::WriteString(entry.request->method, &out_);
    AppendString("url", entry.request->url, &out_);
    out_ += "}";
  }
  if (entry.response) {
    const BundleEntryResponse& r = *entry.response;
    key("response");
    out_ += "{\"status\":";
    json::WriteString(r.status, &out_);
    if (!r.location.empty()) AppendString("location", r.location, &out_);
    if (r.version > 0) AppendString("etag", ETagFor(r.version), &out_);
    if (r.last_modified > 0) AppendString("lastModified", FormatInstant(r.last_modified), &out_);
    if (!r.outcome.empty()) {
      out_ += ",\"outcome\":";
      out_ += r.outcome;
    }
    out_ += "}";
  }
  out_ += "}";
}

std::string BundleWriter::Finish() {
  if (entries_ > 0) {
    out_ += "]";
  } else if (empty_entries_ == EmptyEntries::kWriteEmptyArray) {
    out_ += ",\"entry\":[]";
  }
  out_ += "}";
  return std::move(out_);
}

std::vector<BundleLink> PagingLinks(std::string_view path, std::string_view query,
                                    std::string_view next_cursor) {
  std::string self(path);
  if (!query.empty()) self += "?" + std::string(query);
  std::vector<BundleLink> links;
  links.push_back({"self", self});
  if (!next_cursor.empty()) {
    links.push_back(
        {"next", self + (query.empty() ? "?" : "&") + "_cursor=" + PercentEncode(next_cursor)});
  }
  return links;
}

std::string FullUrl(std::string_view base, std::string_view type, std::string_view id) {
  std::string url(base);
  url += '/';
  url += type;
  url += '/';
  url += id;
  return url;
}

std::string EncodeQuery(const QueryList& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (name == "_cursor") continue;
    if (!out.empty()) out += "&";
    out += PercentEncode(name) + "=" + PercentEncode(value);
  }
  return out;
}

}  // namespace vesta::rest
