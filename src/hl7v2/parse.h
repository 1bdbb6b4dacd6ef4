// Parsing an ER7 (pipe-and-hat) HL7 v2 message, versions 2.3 to 2.8 (HL7 v2.5.1 chapter 2,
// section 2.6 "Message construction rules"; docs/hl7v2.md says what is accepted and refused).
//
//   Error error;
//   Result<Message> msg = Parse(text, &error);
//   if (!msg.ok()) {
//     // error.code, error.location: what the ACK's ERR segment needs (ack.h)
//     // msg.status().message(): "MSH-9: message type is required (segment 1, byte 40)"
//   }
#pragma once

#include <string_view>

#include "base/status.h"
#include "hl7v2/error.h"
#include "hl7v2/message.h"

namespace vesta::hl7v2 {

// Parses one message. Lenient where real feeds are sloppy: a UTF-8 byte order mark, CR, LF or
// CRLF segment terminators (mixed, too), blank lines between segments, trailing separators,
// fields left out, any separators MSH-1/MSH-2 declare, Z-segments and unknown segments (kept).
// Strict where it matters: the message must start with MSH, declare its field separator and
// encoding characters (1 to 5 distinct printable non-alphanumeric ASCII characters), and carry
// MSH-9.1 (message code), MSH-10 (control id) and MSH-12 (version; read, not checked against a
// list); every segment id is 3 characters A-Z or 0-9; there is one MSH (no batches). A refusal
// is a kInvalid Status whose message names the segment, the field and the byte; when `error`
// is not null it also receives the Error for the ACK.
Result<Message> Parse(std::string_view text, Error* error = nullptr);

// The header of a message Parse refused, read as far as it goes, so that the ACK can still be
// addressed and echo what it can (ack.h). Takes the first line that starts with "MSH"; fields it
// cannot read are empty, and the delimiters are the standard ones unless the MSH declared valid
// ones. Never fails.
Header SalvageHeader(std::string_view text);

}  // namespace vesta::hl7v2
