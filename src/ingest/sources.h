// What `vesta import` reads: the command line's files, folders and `-` turned into an ordered list
// of sources, each read as NDJSON (one resource per line) or as one JSON document.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace vesta::ingest {

enum class SourceFormat {
  kNdjson,  // one JSON value per line: *.ndjson, *.ndjson.gz, standard input, any other name
  kJson,    // one JSON document, read whole: *.json, *.json.gz (a Bundle or a single resource)
};

struct Source {
  std::string path;  // as given or found; "-" for standard input
  SourceFormat format = SourceFormat::kNdjson;
  int64_t size = -1;  // bytes on disk (compressed for gzip); -1 when unknown (standard input)
};

// The sources of `inputs`, in order. A file named on the command line is read whatever its name
// (as JSON when it ends in .json or .json.gz, else as NDJSON); "-" is standard input (NDJSON);
// a folder is searched recursively for *.ndjson, *.ndjson.gz, *.json and *.json.gz (names
// starting with '.' are skipped, a folder reached twice through links is read once), and what it
// holds is read in ImportOrder. kNotFound, naming the path, for an input that does not exist or
// cannot be read (nothing is imported then).
Result<std::vector<Source>> ExpandInputs(const std::vector<std::string>& inputs);

// The order of the files found in one folder: by rank, then by path. Files that the others
// usually reference come first (Synthea's shared hospital and practitioner Bundles, then NDJSON
// named after Organization, Location, Practitioner, PractitionerRole, Patient, RelatedPerson,
// Group, Encounter, and everything else after them), so that a folder of Bulk Data output or of
// Synthea Bundles rarely makes the importer defer a resource whose reference is not loaded yet.
// The order is an optimisation only: references resolve whatever the order.
int ImportRank(const std::string& path);

}  // namespace vesta::ingest
