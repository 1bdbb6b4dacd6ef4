// Where a view run reads its resources: NDJSON files, streamed line by line, or the store, read
// page by page. Both feed a ViewOutput (output.h), so memory stays bounded by one line or one
// page of resources and the output's chunk.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "store/store.h"
#include "views/output.h"

namespace vesta::views {

// Runs `out`'s view over the resources of an NDJSON file (one resource per line; blank lines
// skipped). Lines that cannot name the view's type are skipped without being parsed. A line that
// is not JSON is an error naming "file:line".
Status RunNdjsonFile(const std::string& path, ViewOutput* out);

// Runs `out`'s view over the current resources of the view's type in `store`, `page_size` at a
// time in the store's search order (Store::Search with _count and _cursor; the store's own
// snapshot per page, so a resource written during the run may or may not be seen).
Status RunStore(store::Store& store, ViewOutput* out, int page_size = 1000);

}  // namespace vesta::views
