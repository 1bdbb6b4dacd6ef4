// Serializing json::Values. Numbers are written as their raw text; strings are escaped minimally
// (", \ and control characters), UTF-8 passes through.
#pragma once

#include <string>
#include <string_view>

#include "json/value.h"

namespace vesta::json {

enum class Style { kCompact, kPretty };

void Write(const Value& v, Style style, std::string* out);
std::string ToString(const Value& v, Style style = Style::kCompact);
// Appends `s` as a quoted, escaped JSON string.
void WriteString(std::string_view s, std::string* out);

}  // namespace vesta::json
