// Where the official PATCH cases are: $VESTA_SHARED_DATA/fhir-test-cases-extras/r4/patch
// (VESTA_SHARED_DATA defaults to ../shared/data, the repository's sibling, when unset).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vesta::patch::testing {

// The file's path, or "" when the data folder or the file is absent.
inline std::string PatchCaseFile(const std::string& name) {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  std::string base = env != nullptr && *env != 0 ? env : "../shared/data";
  std::string path = base + "/fhir-test-cases-extras/r4/patch/" + name;
  return std::filesystem::is_regular_file(path) ? path : std::string();
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vesta::patch::testing
