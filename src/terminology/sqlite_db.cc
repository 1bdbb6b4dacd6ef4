#include "terminology/sqlite_db.h"

namespace vesta::terminology::internal {

Result<std::unique_ptr<sqlite::Connection>> OpenTerminologyDb(const std::string& path,
                                                              sqlite::Mode mode) {
  sqlite::OpenOptions options;
  options.mode = mode;
  if (mode == sqlite::Mode::kReadWrite)
    options.pragmas = {"journal_mode = WAL", "synchronous = NORMAL"};
  options.pragmas.push_back("foreign_keys = OFF");
  options.pragmas.push_back("cache_size = -65536");
  return sqlite::Connection::Open(path, options);
}

}  // namespace vesta::terminology::internal
