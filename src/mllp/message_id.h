// The id a received HL7 v2 message is kept under (a `Basic` resource, mllp/intake.h), and the id
// stores written before the current scheme keep it under.
#pragma once

#include <string>
#include <string_view>

#include "hl7v2/message.h"

namespace vesta::mllp {

// The stored message's id: "v2-", the digits of MSH-7 (at most 14: to the second) and "-", MSH-10
// (at most 20 characters, any that an id cannot hold made '.') and "-", then 24 hex digits of
// SHA-256 over MSH-3, MSH-4, MSH-10 and the message's text (segment ends made CR). A message
// sent again unchanged is the same resource (a duplicate); a different message that reuses a
// control id (a sender's error, common in test feeds) is a message of its own. The time and
// control id come first so that a feed's records take ids in about the order they arrive: the
// store's indexes by id then grow at their ends, instead of taking each record at a random place.
std::string MessageId(const hl7v2::Header& header, std::string_view text);
// The id the same message was stored under before: "v2-" and 40 hex digits of the same hash.
std::string LegacyMessageId(const hl7v2::Header& header, std::string_view text);

// "NAMESPACE" or "NAMESPACE&UNIVERSAL_ID": an HD (MSH-3, MSH-4) as the ids and listings show it.
std::string Designator(const hl7v2::HierarchicDesignator& d);

}  // namespace vesta::mllp
