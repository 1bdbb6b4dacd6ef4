#include "cli/store_choice.h"

#include <vector>

#include "terminology/loaders.h"

#ifdef VESTA_HAVE_POSTGRES_STORE
#include "store/postgres/postgres_store.h"
#endif

namespace vesta::cli {

Result<StoreChoice> ChooseStore(const std::string& store_flag, const std::string& data_dir) {
  StoreChoice choice;
  if (store_flag.starts_with("postgresql://") || store_flag.starts_with("postgres://")) {
    choice.postgres = true;
    choice.uri = store_flag;
  } else if (store_flag.starts_with("sqlite:")) {
    choice.directory = store_flag.substr(7);
  } else if (store_flag.empty()) {
    choice.directory = data_dir;
  } else {
    return Invalid("--store takes sqlite:DIR or a postgresql:// URI");
  }
  return choice;
}

std::string TerminologyLocation(const StoreChoice& choice) {
  return choice.postgres ? choice.uri : terminology::TerminologyDbPath(choice.directory);
}

Result<std::unique_ptr<store::Store>> OpenPostgresStore(const std::string& uri, int connections) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  store::PostgresStoreOptions options;
  options.uri = uri;
  options.pool_size = connections;
  return store::OpenPostgresStore(options);
#else
  (void)uri;
  (void)connections;
  return Status(StatusCode::kNotSupported, "this vesta was built without libpq");
#endif
}

Status AnalyzePostgres(const std::string& uri) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  return store::AnalyzePostgresStore(uri);
#else
  (void)uri;
  return Status(StatusCode::kNotSupported, "this vesta was built without libpq");
#endif
}

Result<int64_t> ReindexPostgres(const std::string& uri, std::vector<std::string>* skipped,
                                int* custom) {
#ifdef VESTA_HAVE_POSTGRES_STORE
  {
    // Opening the store applies pending migrations (the index tables among them).
    ASSIGN_OR_RETURN(std::unique_ptr<store::Store> opened, OpenPostgresStore(uri, 1));
    RETURN_IF_ERROR(opened->Close());
  }
  ASSIGN_OR_RETURN(*custom, store::ActivatePostgresSearchParameters(uri, skipped));
  return store::ReindexPostgresStore(uri);
#else
  (void)uri;
  (void)skipped;
  (void)custom;
  return Status(StatusCode::kNotSupported, "this vesta was built without libpq");
#endif
}

}  // namespace vesta::cli
