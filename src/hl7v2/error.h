// What went wrong with a received message, in the terms an acknowledgment's ERR segment uses.
//
// Parse() fills an Error when it refuses a message; the ACK builder (ack.h) writes one ERR
// segment per Error. ToStatus() gives the same facts as a Status for logs and callers that only
// need a message ("MSH-9: message type is required (segment 1, byte 41)").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::hl7v2 {

// HL7 table 0357, message error condition codes (v2.5.1 chapter 2, ERR-3; the same codes in
// ERR-1's fourth component from 2.3 on). Values are the codes themselves.
enum class ErrorCode : int {
  kMessageAccepted = 0,
  kSegmentSequenceError = 100,
  kRequiredFieldMissing = 101,
  kDataTypeError = 102,
  kTableValueNotFound = 103,
  kValueTooLong = 104,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// Table 0357's display text for `code` ("Required field missing").
std::string_view ErrorCodeText(ErrorCode code);

// HL7 table 0516, error severity (ERR-4, v2.5 on): E, W, I, and F from v2.7 on.
enum class ErrorSeverity { kError, kWarning, kInformation, kFatal };
// The table code: "E", "W", "I", "F".
std::string_view ErrorSeverityCode(ErrorSeverity severity);

// Where in the message (the ERL data type of ERR-2; ERR-1's first three components before 2.5).
// Every number is 1-based as the standard counts; 0 means "not known" and is left out of ERR.
struct ErrorLocation {
  std::string segment_id;    // "MSH", "OBX"; empty when the error is about the whole message
  int segment_sequence = 0;  // the occurrence of that segment id: 2 for the second OBX
  int field = 0;             // field position (MSH-1 is the field separator)
  int repetition = 0;
  int component = 0;
  int subcomponent = 0;
};

struct Error {
  ErrorCode code = ErrorCode::kApplicationInternalError;
  ErrorSeverity severity = ErrorSeverity::kError;
  ErrorLocation location;
  // The segment's line among the message's segments (1 for MSH; blank lines not counted) and the
  // byte offset in the text given to Parse (BOM included); 0 / npos when not known. For the
  // Status message only: ERR has no place for them.
  int segment_index = 0;
  size_t byte_offset = std::string::npos;
  // What is wrong, in words for a person (ERR-8 user message; MSA-3 before v2.5).
  std::string message;
};

// The Error as a Status (kInvalid) whose message names the place first: "MSH-9: ..." for a header
// field, "segment 4 (OBX), field 2: ..." elsewhere, with the segment index and byte offset after
// the text.
Status ToStatus(const Error& error);

}  // namespace vesta::hl7v2
