// SIU S12 to S26: the IG's "SIU_S12 to Bundle Map" and its siblings, with "SCH to Appointment",
// "AIS to Appointment", "AIP to Appointment" (participant Practitioner) and "AIL to Appointment"
// (participant Location).
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {
namespace {

// SCH-25 filler status code (table 0278), else the event, to Appointment.status.
std::string AppointmentStatus(const Segment& sch, std::string_view event) {
  const std::string code = Lower(sch.Field(25).Component(1).text());
  static constexpr std::pair<std::string_view, std::string_view> kStatus[] = {
      {"pending", "pending"},    {"waitlist", "waitlist"},
      {"booked", "booked"},      {"started", "arrived"},
      {"complete", "fulfilled"}, {"cancelled", "cancelled"},
      {"dc", "cancelled"},       {"deleted", "entered-in-error"},
      {"blocked", "booked"},     {"overbook", "booked"},
      {"noshow", "noshow"}};
  for (const auto& [v2, fhir] : kStatus) {
    if (code == v2) return std::string(fhir);
  }
  if (event == "S15" || event == "S16") return "cancelled";  // cancellation, discontinuation
  if (event == "S17") return "entered-in-error";             // deletion
  if (event == "S26") return "noshow";
  return "booked";
}

// Minutes in a duration of `units` (SCH-10 / AIS-8 CNE: "MIN", "S", "H", "D").
std::string Minutes(std::string_view amount, std::string_view units) {
  std::string n = Decimal(amount);
  if (n.empty() || n.find('.') != std::string::npos || n[0] == '-' || n == "0") return "";
  const std::string u = Upper(units);
  long long v = std::stoll(n);
  if (u == "H" || u == "HR" || u == "HOUR") v *= 60;
  if (u == "D" || u == "DAY") v *= 1440;
  if (u == "S" || u == "SEC") v /= 60;
  if (v <= 0) return "";
  return std::to_string(v);
}

J Participant(J actor, std::string_view status) {
  J p = J::Obj();
  p.Set("actor", std::move(actor));
  p.Set("status", status);
  return p;
}

}  // namespace

void MapSiu(MapContext& ctx) {
  const Message& msg = ctx.message();
  std::optional<Segment> sch = msg.Find("SCH");
  if (!sch) {
    ctx.Fail("SCH: the message has no SCH segment");
    return;
  }
  if (std::optional<Segment> pid = msg.Find("PID")) {
    MapPatient(ctx, *pid);
    if (ctx.failed()) return;
  }
  const std::string& event = msg.header().trigger_event;
  J a = J::Obj();
  J ids = J::Arr();
  ids.Add(EiIdentifier(ctx, sch->Field(1), "PLAC"));
  ids.Add(EiIdentifier(ctx, sch->Field(2), "FILL"));
  a.Set("identifier", std::move(ids));
  Key key = EiKey(ctx, sch->Field(2));
  if (key.empty()) key = EiKey(ctx, sch->Field(1));
  const std::string status = AppointmentStatus(*sch, event);
  a.Set("status", status);
  if (status == "cancelled") a.Set("cancelationReason", CodeableConcept(ctx, sch->Field(6)));
  std::optional<Segment> ais = msg.Find("AIS");
  if (ais) {
    a.Set("serviceType", J::Arr().Add(CodeableConcept(ctx, ais->Field(3))));
  }
  a.Set("appointmentType", CodeableConcept(ctx, sch->Field(8), "HL70276"));
  a.Set("reasonCode", J::Arr().Add(CodeableConcept(ctx, sch->Field(7))));
  // Start and end: SCH-11 (TQ: .4 start, .5 end; before v2.7), else TQ1-7/8, else AIS-4.
  std::string start = DateTime(ctx, sch->Field(11).Component(4).text());
  std::string end = DateTime(ctx, sch->Field(11).Component(5).text());
  if (std::optional<Segment> tq1 = msg.Find("TQ1"); tq1 && start.empty()) {
    start = DateTime(ctx, tq1->Field(7).text());
    end = DateTime(ctx, tq1->Field(8).text());
  }
  if (start.empty() && ais) start = DateTime(ctx, ais->Field(4).text());
  // FHIR instants: start and end need a full date and time with a zone.
  auto instant = [&](const std::string& dt) { return dt.size() >= 19 ? dt : std::string(); };
  a.Set("start", instant(start));
  a.Set("end", instant(end));
  std::string minutes = Minutes(sch->Field(9).text(), sch->Field(10).Component(1).text());
  if (minutes.empty() && ais) {
    minutes = Minutes(ais->Field(7).text(), ais->Field(8).Component(1).text());
  }
  a.Set("minutesDuration", J::Num(minutes));
  J comments;
  std::string comment;
  for (const Segment& nte : msg.Segments("NTE")) {
    std::string text = JoinedText(nte.Field(3));
    if (!text.empty()) comment += (comment.empty() ? "" : "\n") + text;
  }
  a.Set("comment", comment);
  J participants = J::Arr();
  if (!ctx.patient_url.empty()) {
    participants.Add(Participant(Reference(ctx.patient_url), "accepted"));
  }
  for (const Segment& aip : msg.Segments("AIP")) {
    for (const Value& xcn : aip.Field(3).Repetitions()) {
      J who = PractitionerReference(ctx, xcn);
      if (who.empty()) continue;
      J p = Participant(std::move(who), "accepted");
      p.Set("type", J::Arr().Add(CodeableConcept(ctx, aip.Field(4), "HL70443")));
      participants.Add(std::move(p));
    }
  }
  for (const Segment& ail : msg.Segments("AIL")) {
    J where = LocationReference(ctx, ail.Field(3));
    if (!where.empty()) participants.Add(Participant(std::move(where), "accepted"));
  }
  if (participants.empty()) {
    ctx.Fail(Where(*sch, 0) + ": the appointment has no participant (PID, AIP or AIL)");
    return;
  }
  a.Set("participant", std::move(participants));
  ctx.Add("Appointment", std::move(a), key);
}

}  // namespace vesta::hl7v2::internal
