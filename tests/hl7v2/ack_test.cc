#include "hl7v2/ack.h"

#include <gtest/gtest.h>

#include "hl7v2/parse.h"

namespace vesta::hl7v2 {
namespace {

Message ParseOk(std::string_view text) {
  Result<Message> m = Parse(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) std::abort();
  return *std::move(m);
}

const AckOptions kOptions{"ACK0001", "20240105143000+0100", "2.5.1", "P"};

constexpr std::string_view kAdt =
    "MSH|^~\\&|ADTApp|GHH^2.16.840.1.1^ISO|EHRApp|GHHR|20240105||ADT^A01^ADT_A01|MSG00001|P|2.8|"
    "||||USA|UNICODE UTF-8\r"
    "PID|1||123\r";

TEST(Hl7v2Ack, OriginalModeAccept) {
  Message m = ParseOk(kAdt);
  EXPECT_EQ(ModeOf(m.header()), AckMode::kOriginal);
  EXPECT_EQ(AcceptAckCondition(m.header()), AckCondition::kNever);
  EXPECT_EQ(ApplicationAckCondition(m.header()), AckCondition::kAlways);
  std::string ack = BuildAck(m.header(), {AckKind::kOriginal, Outcome::kAccept, {}}, kOptions);
  EXPECT_EQ(ack,
            "MSH|^~\\&|EHRApp|GHHR|ADTApp|GHH^2.16.840.1.1^ISO|20240105143000+0100||ACK^A01^ACK|"
            "ACK0001|P|2.8||||||UNICODE UTF-8\r"
            "MSA|AA|MSG00001\r");
  Message parsed = ParseOk(ack);
  EXPECT_EQ(parsed.header().message_code, "ACK");
  EXPECT_EQ(parsed.Get("MSA-2").text(), "MSG00001");
}

TEST(Hl7v2Ack, OriginalModeErrorWithErrSegment) {
  Message m = ParseOk(kAdt);
  Error e;
  e.code = ErrorCode::kRequiredFieldMissing;
  e.location = {"PID", 1, 3, 1, 0, 0};
  e.message = "PID-3 must hold an MR identifier | ^ & ~ \\ and\na line break";
  std::string ack = BuildAck(m.header(), {AckKind::kOriginal, Outcome::kError, {e}}, kOptions);
  Message parsed = ParseOk(ack);
  EXPECT_EQ(parsed.Get("MSA-1").text(), "AE");
  EXPECT_EQ(parsed.Get("MSA-2").text(), "MSG00001");
  EXPECT_TRUE(parsed.Get("MSA-3").empty());  // 2.5 on: the text is in ERR-8
  std::optional<Segment> err = parsed.Find("ERR");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->raw(),
            "ERR||PID^1^3^1|101^Required field missing^HL70357|E||||PID-3 must hold an MR "
            "identifier \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ and\\X0A\\a line break");
  EXPECT_EQ(parsed.Get("ERR-8").text(), e.message);
  EXPECT_EQ(parsed.Get("ERR-3.1").text(), "101");
  EXPECT_EQ(parsed.Get("ERR-4").text(), "E");
}

TEST(Hl7v2Ack, OriginalModeRejectSeveralErrors) {
  Message m = ParseOk(kAdt);
  Error a;
  a.code = ErrorCode::kUnsupportedMessageType;
  a.location = {"MSH", 1, 9, 0, 0, 0};
  a.message = "not here";
  Error b;
  b.code = ErrorCode::kApplicationInternalError;
  b.severity = ErrorSeverity::kWarning;
  b.message = "store unavailable";
  std::string ack = BuildAck(m.header(), {AckKind::kOriginal, Outcome::kReject, {a, b}}, kOptions);
  Message parsed = ParseOk(ack);
  EXPECT_EQ(parsed.Get("MSA-1").text(), "AR");
  std::vector<Segment> errs = parsed.Segments("ERR");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].Field(2).raw(), "MSH^1^9");
  EXPECT_EQ(errs[0].Field(3).raw(), "200^Unsupported message type^HL70357");
  EXPECT_EQ(errs[1].Field(2).raw(), "");  // no location
  EXPECT_EQ(errs[1].Field(3).raw(), "207^Application internal error^HL70357");
  EXPECT_EQ(errs[1].Field(4).raw(), "W");
}

TEST(Hl7v2Ack, OldVersionsUseErr1AndMsa3) {
  Message m = ParseOk("MSH|^~\\&|LAB|H|EHR|H|20240105||ORU^R01|C-9|T|2.3\rPID|1\r");
  Error e;
  e.code = ErrorCode::kRequiredFieldMissing;
  e.location = {"PID", 1, 3, 0, 0, 0};
  e.message = "no identifier";
  std::string ack = BuildAck(m.header(), {AckKind::kOriginal, Outcome::kError, {e, e}}, kOptions);
  EXPECT_EQ(ack,
            "MSH|^~\\&|EHR|H|LAB|H|20240105143000+0100||ACK^R01|ACK0001|T|2.3\r"
            "MSA|AE|C-9|no identifier; no identifier|||101^Required field missing^HL70357\r"
            "ERR|PID^1^3^101&Required field missing&HL70357~PID^1^3^101&Required field "
            "missing&HL70357\r");
  ParseOk(ack);
  // 2.4 has the message structure component; still the old ERR.
  Message v24 = ParseOk("MSH|^~\\&|LAB|H|EHR|H|20240105||ORU^R01|C-9|P|2.4\r");
  std::string ack24 = BuildAck(v24.header(), {AckKind::kOriginal, Outcome::kError, {e}}, kOptions);
  Message p24 = ParseOk(ack24);
  EXPECT_EQ(p24.Get("MSH-9").raw(), "ACK^R01^ACK");
  EXPECT_EQ(p24.Get("ERR-1.4.1").text(), "101");
  EXPECT_EQ(p24.Get("MSA-3").text(), "no identifier");
}

TEST(Hl7v2Ack, EnhancedMode) {
  Message m = ParseOk("MSH|^~\\&|A|B|C|D|20240105||ORU^R01^ORU_R01|77|P^T|2.5.1|||AL|ER\rPID|1\r");
  const Header& h = m.header();
  EXPECT_EQ(ModeOf(h), AckMode::kEnhanced);
  EXPECT_EQ(AcceptAckCondition(h), AckCondition::kAlways);
  EXPECT_EQ(ApplicationAckCondition(h), AckCondition::kErrorOnly);
  EXPECT_TRUE(ShouldSend(AcceptAckCondition(h), Outcome::kAccept));
  EXPECT_FALSE(ShouldSend(ApplicationAckCondition(h), Outcome::kAccept));
  EXPECT_TRUE(ShouldSend(ApplicationAckCondition(h), Outcome::kError));
  std::string commit = BuildAck(h, {AckKind::kCommit, Outcome::kAccept, {}}, kOptions);
  EXPECT_EQ(commit,
            "MSH|^~\\&|C|D|A|B|20240105143000+0100||ACK^R01^ACK|ACK0001|P^T|2.5.1|||NE|NE\r"
            "MSA|CA|77\r");
  Message c = ParseOk(commit);
  EXPECT_EQ(c.header().accept_ack_type, "NE");  // an acknowledgment is not acknowledged
  EXPECT_EQ(AckCode(AckKind::kCommit, Outcome::kError), "CE");
  EXPECT_EQ(AckCode(AckKind::kCommit, Outcome::kReject), "CR");
  EXPECT_EQ(AckCode(AckKind::kApplication, Outcome::kError), "AE");
  std::string app = BuildAck(h, {AckKind::kApplication, Outcome::kError, {}}, kOptions);
  EXPECT_EQ(ParseOk(app).Get("MSA-1").text(), "AE");
}

TEST(Hl7v2Ack, Table0155Conditions) {
  Header h;
  h.accept_ack_type = "SU";
  EXPECT_EQ(AcceptAckCondition(h), AckCondition::kSuccessOnly);
  EXPECT_EQ(ApplicationAckCondition(h), AckCondition::kNever);  // empty in enhanced mode
  EXPECT_FALSE(ShouldSend(AckCondition::kSuccessOnly, Outcome::kReject));
  EXPECT_TRUE(ShouldSend(AckCondition::kSuccessOnly, Outcome::kAccept));
  EXPECT_FALSE(ShouldSend(AckCondition::kNever, Outcome::kError));
  h.accept_ack_type = "XX";  // not in the table: answer
  EXPECT_EQ(AcceptAckCondition(h), AckCondition::kAlways);
  h.accept_ack_type = "NE";
  h.application_ack_type = "AL";  // the original mode, spelled out
  EXPECT_EQ(ModeOf(h), AckMode::kEnhanced);
  EXPECT_EQ(AcceptAckCondition(h), AckCondition::kNever);
  EXPECT_EQ(ApplicationAckCondition(h), AckCondition::kAlways);
}

TEST(Hl7v2Ack, KeepsTheMessageDelimitersAndReescapes) {
  Message m = ParseOk("MSH!@*$%!SND$F$APP!F!R!G!20240101!!ADT@A08!C$S$1!P!2.6\r");
  EXPECT_EQ(m.header().sending_application.namespace_id, "SND!APP");
  EXPECT_EQ(m.header().control_id, "C@1");
  std::string ack = BuildAck(m.header(), {AckKind::kOriginal, Outcome::kAccept, {}}, kOptions);
  EXPECT_EQ(ack,
            "MSH!@*$%!R!G!SND$F$APP!F!20240105143000+0100!!ACK@A08@ACK!ACK0001!P!2.6\r"
            "MSA!AA!C$S$1\r");
  ParseOk(ack);
}

TEST(Hl7v2Ack, UnparseableMessage) {
  // No control id: refused, but the header salvaged addresses the ACK.
  std::string text = "MSH|^~\\&|APP|FAC|ME|HERE|20240101||ORU^R01||P|2.4\rPID|1\r";
  Error error;
  ASSERT_FALSE(Parse(text, &error).ok());
  Header h = SalvageHeader(text);
  std::string ack = BuildAck(h, {AckKind::kOriginal, Outcome::kReject, {error}}, kOptions);
  Message parsed = ParseOk(ack);
  EXPECT_EQ(parsed.Get("MSH-3").text(), "ME");
  EXPECT_EQ(parsed.Get("MSH-5").text(), "APP");
  EXPECT_EQ(parsed.Get("MSA-1").text(), "AR");
  EXPECT_EQ(parsed.Get("MSA-2").text(), "");
  EXPECT_EQ(parsed.Get("MSA-3").text(), "message control id is required");
  EXPECT_EQ(parsed.Get("ERR-1").raw(), "MSH^1^10^101&Required field missing&HL70357");

  // Nothing to salvage at all: defaults.
  Error junk;
  ASSERT_FALSE(Parse("\x01\x02 not hl7", &junk).ok());
  std::string ack2 = BuildAck(SalvageHeader("\x01\x02 not hl7"),
                              {AckKind::kOriginal, Outcome::kReject, {junk}}, kOptions);
  Message p2 = ParseOk(ack2);
  EXPECT_EQ(p2.header().version, "2.5.1");
  EXPECT_EQ(p2.header().processing_id, "P");
  EXPECT_EQ(p2.Get("MSH-9").raw(), "ACK^^ACK");
  EXPECT_EQ(p2.Get("ERR-2").raw(), "MSH^1");
  EXPECT_EQ(p2.Get("ERR-3.1").text(), "100");

  // Invalid encoding characters: the insides of fields are opaque, re-escaped with the standard
  // delimiters.
  std::string bad = "MSH|^^|A^B|F|||||X^Y|9|P|2.5\r";
  std::string ack3 =
      BuildAck(SalvageHeader(bad), {AckKind::kOriginal, Outcome::kReject, {}}, kOptions);
  Message p3 = ParseOk(ack3);
  EXPECT_EQ(p3.Get("MSH-5").text(), "A^B");
  EXPECT_EQ(p3.Get("MSA-2").text(), "9");
}

}  // namespace
}  // namespace vesta::hl7v2
