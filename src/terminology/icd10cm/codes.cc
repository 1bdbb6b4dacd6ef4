#include "terminology/icd10cm/codes.h"

#include <algorithm>
#include <cctype>

namespace vesta::terminology {
namespace {

// Only plain codes (letters and digits) get a point: "E08-E13" or "S06.0" stay as they are.
std::string DotAfter(std::string_view code, size_t n) {
  std::string out(code);
  bool plain = std::all_of(code.begin(), code.end(),
                           [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  if (plain && code.size() > n) out.insert(n, 1, '.');
  return out;
}

}  // namespace

std::string Icd10CmDotted(std::string_view code) { return DotAfter(code, 3); }

std::string Icd9CmDotted(std::string_view code) {
  return DotAfter(code, !code.empty() && (code[0] == 'E' || code[0] == 'e') ? 4 : 3);
}

std::string Undotted(std::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    if (c != '.') out.push_back(c);
  }
  return out;
}

}  // namespace vesta::terminology
