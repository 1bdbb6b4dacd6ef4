// The storage behind Message and Segment, shared by message.cc and parse.cc. Not part of the
// library's interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hl7v2/message.h"

namespace vesta::hl7v2::internal {

struct SegmentData {
  size_t offset = 0;     // of raw's first byte in MessageData::text
  std::string_view raw;  // the segment without its terminator
  // fields[n] is field n as written; fields[0] the segment id. For MSH, fields[1] is the one
  // character of the field separator and fields[2] the encoding characters.
  std::vector<std::string_view> fields;
};

// Built once by Parse and never changed: the views point into `text`, which does not move
// because the whole structure lives behind a shared_ptr.
struct MessageData {
  std::string text;
  Header header;
  std::vector<SegmentData> segments;
};

// The fields of one segment line (see SegmentData::fields). REQUIRES: for MSH, the line holds
// at least the separator after "MSH".
std::vector<std::string_view> SplitFields(std::string_view line, char field_separator, bool is_msh);

// The header fields of an MSH segment's fields, decoded with `d`; no check.
Header ReadHeader(const std::vector<std::string_view>& msh_fields, const Delimiters& d);

}  // namespace vesta::hl7v2::internal
