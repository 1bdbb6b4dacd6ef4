// Acknowledgments (ACK messages) for received messages, original and enhanced mode.
//
//   Header h = msg.ok() ? msg->header() : SalvageHeader(text);
//   AckRequest req{AckKind::kOriginal, Outcome::kError, {error}};
//   if (ModeOf(h) == AckMode::kEnhanced) req.kind = AckKind::kCommit;
//   std::string ack = BuildAck(h, req, {.control_id = next_id, .date_time = now});
//
// The rules, HL7 v2.5.1 chapter 2 (the same in 2.3 to 2.8, whose section numbers differ):
//  - 2.9.2 "Message response using the original processing rules": the receiver answers every
//    message with an ACK whose MSA-1 is AA (accepted), AE (error: the message was processed and
//    an error found) or AR (rejected: MSH-9, MSH-11 or MSH-12 not accepted, or the message not
//    processed for a reason unrelated to its content).
//  - 2.9.3 "Response using enhanced acknowledgment": MSH-15 (accept acknowledgment type) and
//    MSH-16 (application acknowledgment type), from table 0155 (AL always, NE never, ER only on
//    error or reject, SU only on success), ask for a commit acknowledgment (MSA-1 CA, CE, CR:
//    the message was, or could not be, committed to safe storage) and for an application
//    acknowledgment (AA, AE, AR) sent once the message was processed. When both fields are
//    empty, the original mode applies (the note to MSH-16, 2.15.9.16).
//  - 2.15.9 MSH: the ACK's sending application and facility are the message's receiving ones
//    and the other way round; it has its own control id (MSH-10), the same processing id and
//    version; MSH-9 is ACK^<trigger event>^ACK (the structure component from 2.3.1 on).
//  - 2.15.8 MSA: MSA-1 the acknowledgment code, MSA-2 the control id of the message answered;
//    MSA-3 (text message) and MSA-6 (error condition) only before 2.5, where ERR has no room for
//    a message.
//  - 2.15.5 ERR: from 2.5 on one ERR per error: ERR-2 the location (ERL: segment id, sequence,
//    field, repetition, component, subcomponent), ERR-3 the code from table 0357, ERR-4 the
//    severity (table 0516), ERR-8 the user message (escaped). Before 2.5, one ERR whose ERR-1
//    repeats per error: segment id ^ sequence ^ field position ^ code (table 0357) as a CE.
// https://www.hl7.org/implement/standards/product_brief.cfm?product_id=144
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hl7v2/error.h"
#include "hl7v2/message.h"

namespace vesta::hl7v2 {

enum class AckMode { kOriginal, kEnhanced };

// Table 0155, accept/application acknowledgment conditions.
enum class AckCondition {
  kAlways,       // AL
  kNever,        // NE
  kErrorOnly,    // ER: only when the outcome is an error or a reject
  kSuccessOnly,  // SU: only when the message was accepted
};

// What became of the message.
enum class Outcome { kAccept, kError, kReject };

// Which acknowledgment: the one of original mode, or in enhanced mode the commit (accept)
// acknowledgment or the application acknowledgment.
enum class AckKind { kOriginal, kCommit, kApplication };

// Original when MSH-15 and MSH-16 are both empty, enhanced otherwise.
AckMode ModeOf(const Header& header);
// What MSH-15 / MSH-16 ask for. In original mode, never a commit ACK and always an application
// (original) ACK. In enhanced mode an empty field means NE (with the other one valued; the
// original mode is the enhanced one with NE and AL, note to MSH-16), and a value not in table
// 0155 means AL: answering is safer than leaving a sender waiting.
AckCondition AcceptAckCondition(const Header& header);
AckCondition ApplicationAckCondition(const Header& header);
// True when an acknowledgment under `condition` is to be sent for `outcome`.
bool ShouldSend(AckCondition condition, Outcome outcome);
// MSA-1: AA/AE/AR for kOriginal and kApplication, CA/CE/CR for kCommit.
std::string_view AckCode(AckKind kind, Outcome outcome);

struct AckRequest {
  AckKind kind = AckKind::kOriginal;
  Outcome outcome = Outcome::kAccept;
  std::vector<Error> errors;  // one ERR each (or one ERR-1 repetition each before 2.5)
};

struct AckOptions {
  std::string control_id;  // the ACK's own MSH-10; REQUIRES: not empty
  std::string date_time;   // MSH-7, e.g. "20240105143000+0100"; the caller's clock
  // Used when the message did not say (a salvaged header: SalvageHeader).
  std::string default_version = "2.5.1";
  std::string default_processing_id = "P";
};

// The ACK answering the message whose header is `original` (a parsed message's, or one salvaged
// from a refused message, with whatever it could read), segments ended by CR. It uses the
// message's delimiters when it declared all four (component, repetition, escape, subcomponent),
// the standard ones otherwise; every copied value is re-escaped, so the result always parses.
std::string BuildAck(const Header& original, const AckRequest& request, const AckOptions& options);

}  // namespace vesta::hl7v2
