// Reading resources for a view run (sources.h).
#include "views/sources.h"

#include <fstream>

#include "json/parse.h"

namespace vesta::views {

Status RunNdjsonFile(const std::string& path, ViewOutput* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid("cannot open " + path);
  // A resource of the view's type has `"Type"` somewhere in its line: others skip the parser.
  const std::string quoted_type = "\"" + out->view().resource_type() + "\"";
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.find(quoted_type) == std::string::npos) continue;
    Result<json::Document> doc = json::Parse(line);
    if (!doc.ok()) {
      return Invalid(path + ":" + std::to_string(number) + ": " + doc.status().message());
    }
    Status st = out->Add(doc->root());
    if (!st.ok()) return Invalid(path + ":" + std::to_string(number) + ": " + st.message());
  }
  if (in.bad()) return Internal("reading " + path + " failed");
  return Status::Ok();
}

Status RunStore(store::Store& store, ViewOutput* out, int page_size) {
  std::string cursor;
  while (true) {
    store::SearchQuery q;
    q.types = {out->view().resource_type()};
    q.params.emplace_back("_count", std::to_string(page_size));
    if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
    q.default_count = page_size;
    q.max_count = page_size;
    Result<store::SearchPage> page = store.Search(q);
    if (!page.ok()) return page.status();
    for (const store::SearchHit& hit : page->entries) {
      if (hit.mode != store::SearchMode::kMatch || hit.version.deleted) continue;
      Result<json::Document> doc = json::Parse(hit.version.json);
      if (!doc.ok()) {
        return Internal(hit.version.type + "/" + hit.version.id +
                        ": stored JSON does not parse: " + doc.status().message());
      }
      RETURN_IF_ERROR(out->Add(doc->root()));
    }
    if (page->next_cursor.empty()) return Status::Ok();
    cursor = std::move(page->next_cursor);
  }
}

}  // namespace vesta::views
