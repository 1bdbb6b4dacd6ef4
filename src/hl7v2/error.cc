#include "hl7v2/error.h"

namespace vesta::hl7v2 {

std::string_view ErrorCodeText(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMessageAccepted:
      return "Message accepted";
    case ErrorCode::kSegmentSequenceError:
      return "Segment sequence error";
    case ErrorCode::kRequiredFieldMissing:
      return "Required field missing";
    case ErrorCode::kDataTypeError:
      return "Data type error";
    case ErrorCode::kTableValueNotFound:
      return "Table value not found";
    case ErrorCode::kValueTooLong:
      return "Value too long";
    case ErrorCode::kUnsupportedMessageType:
      return "Unsupported message type";
    case ErrorCode::kUnsupportedEventCode:
      return "Unsupported event code";
    case ErrorCode::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case ErrorCode::kUnsupportedVersionId:
      return "Unsupported version id";
    case ErrorCode::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case ErrorCode::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case ErrorCode::kApplicationRecordLocked:
      return "Application record locked";
    case ErrorCode::kApplicationInternalError:
      return "Application internal error";
  }
  return "Application internal error";
}

std::string_view ErrorSeverityCode(ErrorSeverity severity) {
  switch (severity) {
    case ErrorSeverity::kError:
      return "E";
    case ErrorSeverity::kWarning:
      return "W";
    case ErrorSeverity::kInformation:
      return "I";
    case ErrorSeverity::kFatal:
      return "F";
  }
  return "E";
}

Status ToStatus(const Error& error) {
  const ErrorLocation& at = error.location;
  std::string text;
  if (at.segment_id == "MSH" && at.field > 0) {
    text = "MSH-" + std::to_string(at.field);
  } else if (error.segment_index > 0) {
    text = "segment " + std::to_string(error.segment_index);
    if (!at.segment_id.empty()) text += " (" + at.segment_id + ")";
    if (at.field > 0) text += ", field " + std::to_string(at.field);
  } else if (!at.segment_id.empty()) {
    text = at.segment_id;
    if (at.field > 0) text += "-" + std::to_string(at.field);
  } else {
    text = "message";
  }
  text += ": " + error.message;
  std::string where;
  if (error.segment_index > 0 && at.segment_id == "MSH" && at.field > 0) {
    where = "segment " + std::to_string(error.segment_index);
  }
  if (error.byte_offset != std::string::npos) {
    if (!where.empty()) where += ", ";
    where += "byte " + std::to_string(error.byte_offset);
  }
  if (!where.empty()) text += " (" + where + ")";
  return Status(StatusCode::kInvalid, std::move(text));
}

}  // namespace vesta::hl7v2
