#include "hl7v2/parse.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hl7v2/message.h"

namespace vesta::hl7v2 {
namespace {

namespace fs = std::filesystem;

// The sample messages of ../shared/data/hl7v2/messages (docs/hl7v2.md, "Test data").
fs::path MessagesDir() {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  if (shared == nullptr || *shared == '\0') return {};
  return fs::path(shared) / "hl7v2" / "messages";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Message ParseOk(std::string_view text) {
  Result<Message> m = Parse(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) std::abort();
  return *std::move(m);
}

Message ParseSample(const std::string& name) {
  fs::path dir = MessagesDir();
  std::string text = ReadFile(dir / name);
  EXPECT_FALSE(text.empty()) << name;
  return ParseOk(text);
}

#define SKIP_WITHOUT_SAMPLES()                                                        \
  if (MessagesDir().empty() || !fs::is_directory(MessagesDir())) {                    \
    GTEST_SKIP() << "VESTA_SHARED_DATA/hl7v2/messages is absent: no sample messages"; \
  }

TEST(Hl7v2Samples, EveryMessageParses) {
  SKIP_WITHOUT_SAMPLES();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(MessagesDir())) {
    if (entry.path().extension() == ".hl7") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 70u);
  int bom = 0;
  for (const fs::path& file : files) {
    std::string text = ReadFile(file);
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) ++bom;
    Error error;
    Result<Message> m = Parse(text, &error);
    ASSERT_TRUE(m.ok()) << file.filename() << ": " << m.status().message();
    const Header& h = m->header();
    EXPECT_FALSE(h.message_code.empty()) << file.filename();
    EXPECT_FALSE(h.control_id.empty()) << file.filename();
    EXPECT_EQ(h.version.substr(0, 2), "2.") << file.filename();
    EXPECT_EQ(m->text(), text);
    // Every segment read back: the segments' texts, in order, are the message's lines.
    size_t lines = 0;
    for (const Segment& s : m->segments()) {
      EXPECT_EQ(s.raw(), text.substr(s.offset(), s.raw().size()));
      EXPECT_EQ(s.id().size(), 3u);
      ++lines;
    }
    EXPECT_EQ(lines, m->segment_count());
    // The same message with CR and with CRLF ends parses to the same segments.
    std::string cr = text, crlf;
    std::replace(cr.begin(), cr.end(), '\n', '\r');
    for (char c : text) {
      if (c == '\n')
        crlf += "\r\n";
      else
        crlf += c;
    }
    for (const std::string& variant : {cr, crlf}) {
      Result<Message> v = Parse(variant);
      ASSERT_TRUE(v.ok()) << file.filename();
      ASSERT_EQ(v->segment_count(), m->segment_count()) << file.filename();
    }
  }
  EXPECT_GT(bom, 0);  // some samples start with a byte order mark
}

TEST(Hl7v2Samples, AdtA01Patient) {
  SKIP_WITHOUT_SAMPLES();
  Message m = ParseSample("ADT-A01-01.hl7");
  const Header& h = m.header();
  EXPECT_EQ(h.message_code, "ADT");
  EXPECT_EQ(h.trigger_event, "A01");
  EXPECT_EQ(h.message_structure, "ADT_A01");
  EXPECT_EQ(h.control_id, "MSG00001");
  EXPECT_EQ(h.processing_id, "P");
  EXPECT_EQ(h.version, "2.8");
  EXPECT_EQ(h.sending_application.namespace_id, "ADTApp");
  EXPECT_EQ(h.sending_facility,
            (HierarchicDesignator{"GHHSFacility", "2.16.840.1.122848.1.30", "ISO"}));
  EXPECT_EQ(h.receiving_application.namespace_id, "EHRApp");
  EXPECT_EQ(h.receiving_facility.universal_id, "2.16.840.1.1122848.1.32");
  EXPECT_EQ(h.character_sets, std::vector<std::string>{});

  std::optional<Segment> pid = m.Find("PID");
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(pid->number(), 4);
  // PID-3: PATID1234^5^M11^test1&2.16.1&HCD^MR^GOOD HEALTH HOSPITAL~123456789^^^USSSA^SS
  Value pid3 = pid->Field(3);
  ASSERT_EQ(pid3.repetition_count(), 2);
  EXPECT_EQ(pid3.text(), "PATID1234");
  EXPECT_EQ(pid3.Component(5).text(), "MR");
  EXPECT_EQ(pid3.Component(4).subcomponent_count(), 3);
  EXPECT_EQ(pid3.Component(4).Subcomponent(2).text(), "2.16.1");
  EXPECT_EQ(pid3.Repetition(2).Component(1).text(), "123456789");
  EXPECT_EQ(pid3.Repetition(2).Component(4).text(), "USSSA");
  EXPECT_EQ(pid3.Repetition(2).Component(5).text(), "SS");
  EXPECT_EQ(pid3.Repetition(3).raw(), "");
  EXPECT_EQ(m.Get("PID-3(1).4.3").text(), "HCD");
  EXPECT_EQ(m.Get("PID-3(2).4").text(), "USSSA");
  EXPECT_EQ(m.Get("PID-3(2).4.1").text(), "USSSA");
  // PID-5: EVERYMAN&&&&Aniston^ADAM^A^III^Dr.^MD^D^^^19241012^^^^PF^Addsm~Josh&&&&Bing^^stanley...
  Value pid5 = pid->Field(5);
  ASSERT_EQ(pid5.Repetitions().size(), 2u);
  EXPECT_EQ(pid5.Component(1).Subcomponent(1).text(), "EVERYMAN");
  EXPECT_EQ(pid5.Component(1).Subcomponent(5).text(), "Aniston");
  EXPECT_EQ(pid5.Component(2).text(), "ADAM");
  EXPECT_EQ(pid5.Component(7).text(), "D");
  EXPECT_EQ(pid5.Component(10).text(), "19241012");
  EXPECT_EQ(pid5.Repetition(2).Component(1).Subcomponent(5).text(), "Bing");
  EXPECT_EQ(pid5.Repetition(2).Component(3).text(), "stanley");
  EXPECT_EQ(m.Get("PID-5(2).7").text(), "L");
  EXPECT_EQ(pid->Field(8).text(), "M");
  // An escaped value: PV1-14 "NHS Provider-General (inc.A\T\E-this Hosp)".
  EXPECT_EQ(m.Get("PV1-14").raw(), "NHS Provider-General (inc.A\\T\\E-this Hosp)");
  EXPECT_EQ(m.Get("PV1-14").text(), "NHS Provider-General (inc.A&E-this Hosp)");
  // Z-segments and segments this code has no model of are kept in order.
  EXPECT_EQ(m.Segments("ROL").size(), 3u);
  EXPECT_EQ(m.Find("OBX")->Field(5).Repetition(2).text(), "120");
}

TEST(Hl7v2Samples, OruR01Observations) {
  SKIP_WITHOUT_SAMPLES();
  Message m = ParseSample("LAB-ORU-2.hl7");  // starts with a BOM
  EXPECT_EQ(m.header().message_code, "ORU");
  EXPECT_EQ(m.header().trigger_event, "R01");
  EXPECT_EQ(m.header().version, "2.5");
  std::vector<Segment> obx = m.Segments("OBX");
  ASSERT_EQ(obx.size(), 10u);
  EXPECT_EQ(obx[0].Field(2).text(), "NM");
  EXPECT_EQ(obx[0].Field(3).Component(1).text(), "30180-4");
  EXPECT_EQ(obx[0].Field(3).Component(3).text(), "LN");
  EXPECT_EQ(obx[0].Field(5).text(), "0");
  EXPECT_EQ(obx[0].Field(6).text(), "%");
  EXPECT_EQ(obx[5].Field(5).text(), "13.4");
  EXPECT_EQ(obx[5].Field(6).text(), "g/l-1");
  EXPECT_EQ(m.Get("OBX(6)-5").text(), "13.4");
  EXPECT_EQ(m.Get("OBR(2)-4.2").text(), "Hemogram and platelet count, automated");
  // Trailing whitespace is data ("NO " ends the PID line).
  EXPECT_EQ(m.Find("PID")->Field(30).raw(), "NO ");

  Message v24 = ParseSample("ORU-R01-RMGEAD.hl7");
  EXPECT_EQ(v24.header().version, "2.4");
  EXPECT_EQ(v24.header().message_structure, "");
  Segment first = v24.Segments("OBX").at(0);
  EXPECT_EQ(first.Field(2).text(), "SN");
  EXPECT_EQ(first.Field(5).raw(), "^182");  // SN: comparator empty, number 182
  EXPECT_EQ(first.Field(5).Component(2).text(), "182");
}

TEST(Hl7v2Parse, EscapeHeavyMessage) {
  std::string text =
      "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240105||ORU^R01^ORU_R01|X\\F\\1|P|2.5.1\r"
      "OBX|1|FT|11526-1^Pathology^LN||Line 1\\.br\\Line 2 \\H\\bold\\N\\ A\\T\\B 5\\S\\6 "
      "x\\R\\y \\E\\ \\X48690A\\ \\Zz\\|||N|||F\r"
      "NTE|1||a\\F\\b~c\\R\\d\r";
  Message m = ParseOk(text);
  EXPECT_EQ(m.header().control_id, "X|1");
  EXPECT_EQ(m.Get("OBX-5").text(), "Line 1\nLine 2 bold A&B 5^6 x~y \\ Hi\n \\Zz\\");
  EXPECT_EQ(m.Get("NTE-3").repetition_count(), 2);
  EXPECT_EQ(m.Get("NTE-3(1)").text(), "a|b");
  EXPECT_EQ(m.Get("NTE-3(2)").text(), "c~d");
}

TEST(Hl7v2Parse, MshFieldsAreNumberedAsTheStandardDoes) {
  Message m = ParseOk("MSH|^~\\&|A|B|C|D|20240101||ADT^A04|42|T^I|2.3|||AL|NE||8859/1~UNICODE\r");
  Segment msh = m.segments().at(0);
  EXPECT_EQ(msh.id(), "MSH");
  EXPECT_EQ(msh.Field(1).raw(), "|");
  EXPECT_EQ(msh.Field(1).text(), "|");
  EXPECT_EQ(msh.Field(2).text(), "^~\\&");  // as written: not split, not unescaped
  EXPECT_EQ(msh.Field(2).component_count(), 1);
  EXPECT_EQ(msh.Field(3).text(), "A");
  EXPECT_EQ(msh.Field(9).raw(), "ADT^A04");
  EXPECT_EQ(msh.field_count(), 18);
  const Header& h = m.header();
  EXPECT_EQ(h.processing_id, "T");
  EXPECT_EQ(h.processing_mode, "I");
  EXPECT_EQ(h.version, "2.3");
  EXPECT_EQ(h.accept_ack_type, "AL");
  EXPECT_EQ(h.application_ack_type, "NE");
  EXPECT_EQ(h.character_sets, (std::vector<std::string>{"8859/1", "UNICODE"}));
}

TEST(Hl7v2Parse, OtherSeparators) {
  // Field !, component @, repetition *, escape $, subcomponent %.
  Message m = ParseOk(
      "MSH!@*$%!SEND!FAC!RECV!FAC!20240101!!ADT@A08@ADT_A01!C1!P!2.6\n"
      "PID!1!!ID1@@@AUTH%1.2.3%ISO@MR*ID2@@@X@SS!!DOE@JANE$F$X|Y^Z\n");
  EXPECT_EQ(m.delimiters().field, '!');
  EXPECT_EQ(m.header().trigger_event, "A08");
  EXPECT_EQ(m.Get("PID-3").repetition_count(), 2);
  EXPECT_EQ(m.Get("PID-3(1).4.2").text(), "1.2.3");
  EXPECT_EQ(m.Get("PID-3(2).5").text(), "SS");
  EXPECT_EQ(m.Get("PID-5.2").text(), "JANE!X|Y^Z");
  EXPECT_EQ(m.segments().at(0).Field(1).raw(), "!");
  EXPECT_EQ(m.segments().at(0).Field(2).raw(), "@*$%");
  // A truncation character (v2.7 on) as a fifth encoding character.
  Message t = ParseOk("MSH|^~\\&#|A||||||ADT^A01|1|P|2.7\rNTE|1||cut\\P\\\r");
  EXPECT_EQ(t.delimiters().truncation, '#');
  EXPECT_EQ(t.Get("NTE-3").text(), "cut#");
}

TEST(Hl7v2Parse, LenientWhereFeedsAreSloppy) {
  // Mixed segment ends, blank lines, trailing separators, a Z-segment, fields left out.
  std::string text =
      "\xEF\xBB\xBF\r\nMSH|^~\\&|||||||ADT^A01|1|P|2.5|||||||||\r\n\r\n"
      "EVN|A01||\n"
      "  \n"
      "PID|||123||DOE^JOHN^^^^||||||||||||||||||||||||||\r"
      "ZPI|custom^data|x~y\r"
      "PV1\r";
  Message m = ParseOk(text);
  ASSERT_EQ(m.segment_count(), 5u);
  EXPECT_EQ(m.Get("PID-3").text(), "123");
  EXPECT_EQ(m.Get("PID-5.2").text(), "JOHN");
  EXPECT_EQ(m.Get("PID-5.6").text(), "");
  EXPECT_TRUE(m.Get("PID-40").empty());
  EXPECT_TRUE(m.Get("PID-3(2)").empty());
  EXPECT_EQ(m.Get("ZPI-1.2").text(), "data");
  EXPECT_EQ(m.Get("ZPI-2(2)").text(), "y");
  EXPECT_EQ(m.Find("PV1")->field_count(), 0);
  EXPECT_TRUE(m.Get("PV1-1").empty());
  EXPECT_FALSE(m.Find("OBX").has_value());
  EXPECT_TRUE(m.Get("OBX-5").empty());
  // The explicit null.
  Message n = ParseOk("MSH|^~\\&|||||||ADT^A08|1|P|2.5\rPID|||1||\"\"\r");
  EXPECT_TRUE(n.Get("PID-5").is_null());
  EXPECT_EQ(n.Get("PID-5").text(), "");
}

TEST(Hl7v2Parse, ValuesDescendThroughFirstParts) {
  Message m = ParseOk("MSH|^~\\&|||||||ADT^A01|1|P|2.5\rPID|||simple\r");
  Value v = m.Get("PID-3");
  EXPECT_EQ(v.Component(1).text(), "simple");
  EXPECT_EQ(v.Component(1).Subcomponent(1).text(), "simple");
  EXPECT_TRUE(v.Component(2).empty());
  EXPECT_EQ(v.Repetition(1).Component(1).Subcomponent(1).Subcomponent(1).text(), "simple");
  EXPECT_EQ(v.Repetitions().size(), 1u);
  EXPECT_EQ(Value().Repetitions().size(), 0u);
}

TEST(Hl7v2Parse, Paths) {
  Result<Path> p = Path::Parse("OBX(3)-5(2).4.1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->segment_id, "OBX");
  EXPECT_EQ(p->occurrence, 3);
  EXPECT_EQ(p->field, 5);
  EXPECT_EQ(p->repetition, 2);
  EXPECT_EQ(p->component, 4);
  EXPECT_EQ(p->subcomponent, 1);
  for (const char* bad : {"", "PI", "pid-3", "PID", "PID-", "PID-0", "PID-3.", "PID-3()",
                          "PID(0)-3", "PID-3.1.2.3", "PID-3x", "PID-99999999"}) {
    EXPECT_FALSE(Path::Parse(bad).ok()) << bad;
  }
  Message m = ParseOk("MSH|^~\\&|||||||ADT^A01|1|P|2.5\rPID|||1\r");
  EXPECT_TRUE(m.Get("PID.3").empty());  // not the syntax: empty
}

struct Refusal {
  const char* name;
  std::string text;
  std::string message;  // the Status message starts with this
  ErrorCode code;
  std::string segment_id;
  int field;
};

TEST(Hl7v2Parse, Refusals) {
  const std::string ok_rest = "|A|B|C|D|20240101||ADT^A01|1|P|2.5";
  Refusal cases[] = {
      {"empty", "", "MSH: the message is empty", ErrorCode::kSegmentSequenceError, "MSH", 0},
      {"blank", "\r\n\r\n", "MSH: the message is empty", ErrorCode::kSegmentSequenceError, "MSH",
       0},
      {"no MSH", "PID|1\r", "MSH: the message must start with an MSH segment (byte 0)",
       ErrorCode::kSegmentSequenceError, "MSH", 0},
      {"batch", "FHS|^~\\&\rBHS|^~\\&\r", "MSH: a batch (FHS) is not accepted",
       ErrorCode::kSegmentSequenceError, "MSH", 0},
      {"no field separator", "MSH", "MSH-1: the field separator is required",
       ErrorCode::kRequiredFieldMissing, "MSH", 1},
      {"letter as separator", "MSHX^~\\&", "MSH-1: the field separator must be",
       ErrorCode::kDataTypeError, "MSH", 1},
      {"no encoding characters", "MSH||A|B", "MSH-2: the encoding characters are required",
       ErrorCode::kRequiredFieldMissing, "MSH", 2},
      {"encoding characters repeat", "MSH|^^\\&" + ok_rest, "MSH-2: encoding character 2",
       ErrorCode::kDataTypeError, "MSH", 2},
      {"too many encoding characters", "MSH|^~\\&#!" + ok_rest, "MSH-2: at most 5",
       ErrorCode::kDataTypeError, "MSH", 2},
      {"no message type", "MSH|^~\\&|A|B|C|D|20240101|||1|P|2.5\r",
       "MSH-9: message type is required (segment 1, byte 27)", ErrorCode::kRequiredFieldMissing,
       "MSH", 9},
      {"message type without code", "MSH|^~\\&|A|B|C|D|20240101||^A01|1|P|2.5\r",
       "MSH-9: message type is required", ErrorCode::kRequiredFieldMissing, "MSH", 9},
      {"no control id", "MSH|^~\\&|A|B|C|D|20240101||ADT^A01||P|2.5\r",
       "MSH-10: message control id is required", ErrorCode::kRequiredFieldMissing, "MSH", 10},
      {"short MSH", "MSH|^~\\&|A\r", "MSH-9: message type is required",
       ErrorCode::kRequiredFieldMissing, "MSH", 9},
      {"no version", "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P\r", "MSH-12: version id is required",
       ErrorCode::kRequiredFieldMissing, "MSH", 12},
      {"segment id too short", "MSH|^~\\&" + ok_rest + "\rPID|1\rEVN|A01\rOB|1|NM\r",
       "segment 4 (OB): segment id 'OB' is not 3 characters A-Z or 0-9",
       ErrorCode::kSegmentSequenceError, "OB", 0},
      {"segment id lower case", "MSH|^~\\&" + ok_rest + "\npid|1\n",
       "segment 2 (pid): segment id 'pid'", ErrorCode::kSegmentSequenceError, "pid", 0},
      {"segment id too long", "MSH|^~\\&" + ok_rest + "\rPIDX|1\r",
       "segment 2 (PID): segment id 'PIDX'", ErrorCode::kSegmentSequenceError, "PID", 0},
      {"leading space", "MSH|^~\\&" + ok_rest + "\r PID|1\r", "segment 2 ( PI): segment id ' PID'",
       ErrorCode::kSegmentSequenceError, " PI", 0},
      {"second MSH", "MSH|^~\\&" + ok_rest + "\rPID|1\rMSH|^~\\&" + ok_rest + "\r",
       "segment 3 (MSH): a second MSH", ErrorCode::kSegmentSequenceError, "MSH", 0},
  };
  for (const Refusal& c : cases) {
    Error error;
    Result<Message> m = Parse(c.text, &error);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalid) << c.name;
    EXPECT_EQ(m.status().message().substr(0, c.message.size()), c.message)
        << c.name << ": " << m.status().message();
    EXPECT_EQ(error.code, c.code) << c.name;
    EXPECT_EQ(error.location.segment_id, c.segment_id) << c.name;
    EXPECT_EQ(error.location.field, c.field) << c.name;
    EXPECT_FALSE(error.message.empty()) << c.name;
  }
}

TEST(Hl7v2Parse, ErrorsNameTheByte) {
  Error error;
  std::string text = "MSH|^~\\&|||||||ADT^A01|1|P|2.5\rPID|1\rbad|x\r";
  ASSERT_FALSE(Parse(text, &error).ok());
  EXPECT_EQ(error.segment_index, 3);
  EXPECT_EQ(error.byte_offset, text.find("bad"));
  EXPECT_NE(ToStatus(error).message().find("byte " + std::to_string(text.find("bad"))),
            std::string::npos);
}

TEST(Hl7v2Parse, MessagesAreCheapToCopyAndViewsOutliveTheOriginal) {
  std::optional<Value> value;
  std::optional<Segment> pid;
  {
    Message m = ParseOk("MSH|^~\\&|||||||ADT^A01|1|P|2.5\rPID|||abc^^^X\r");
    Message copy = m;
    value = copy.Get("PID-3.4");
    pid = m.Find("PID");
    Message moved = std::move(m);
    EXPECT_EQ(moved.Get("PID-3").text(), "abc");
    // `copy` and `moved` go out of scope here; `value` and `pid` must not outlive both.
    EXPECT_EQ(value->text(), "X");
    EXPECT_EQ(pid->Field(3).raw(), "abc^^^X");
  }
}

TEST(Hl7v2Parse, SalvageHeader) {
  // Refused (no control id), yet the header reads.
  std::string text = "\xEF\xBB\xBFMSH|^~\\&|APP|FAC|ME|HERE|20240101||ORU^R01||P|2.4|||AL|ER\r";
  ASSERT_FALSE(Parse(text).ok());
  Header h = SalvageHeader(text);
  EXPECT_EQ(h.sending_application.namespace_id, "APP");
  EXPECT_EQ(h.receiving_facility.namespace_id, "HERE");
  EXPECT_EQ(h.trigger_event, "R01");
  EXPECT_EQ(h.version, "2.4");
  EXPECT_EQ(h.accept_ack_type, "AL");
  // Bad encoding characters: fields still apart, their insides opaque.
  Header opaque = SalvageHeader("MSH|^^|A^B|F|||||X^Y|9\r");
  EXPECT_EQ(opaque.delimiters.field, '|');
  EXPECT_EQ(opaque.delimiters.component, '\0');
  EXPECT_EQ(opaque.sending_application.namespace_id, "A^B");
  EXPECT_EQ(opaque.control_id, "9");
  // No MSH at all.
  Header none = SalvageHeader("garbage");
  EXPECT_EQ(none.control_id, "");
  EXPECT_EQ(none.delimiters, Delimiters());
}

}  // namespace
}  // namespace vesta::hl7v2
