#include "rest/request.h"

#include <strings.h>

namespace vesta::rest {

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) {
      return v;
    }
  }
  return {};
}

const std::string* Request::Param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace vesta::rest
