// MDM T01 to T10: the IG's "MDM_T02 to Bundle Map" and its siblings, with "TXA to
// DocumentReference" and the OBX of the document body as the DocumentReference's attachment.
#include "base/strings.h"
#include "hl7v2/map_internal.h"

namespace vesta::hl7v2::internal {

void MapMdm(MapContext& ctx) {
  const Message& msg = ctx.message();
  std::optional<Segment> pid = msg.Find("PID");
  if (!pid) {
    ctx.Fail("PID: the message has no PID segment");
    return;
  }
  MapPatient(ctx, *pid);
  if (ctx.failed()) return;
  if (std::optional<Segment> pv1 = msg.Find("PV1")) {
    MapEncounter(ctx, *pv1, nullptr, "");
  }
  std::optional<Segment> txa = msg.Find("TXA");
  if (!txa) {
    ctx.Fail("TXA: the message has no TXA segment");
    return;
  }
  J d = J::Obj();
  Key key = EiKey(ctx, txa->Field(12));  // TXA-12 unique document number
  if (!key.empty()) {
    J id = J::Obj();
    id.Set("system", key.system);
    id.Set("value", key.value);
    d.Set("masterIdentifier", std::move(id));
  }
  J ids = J::Arr();
  for (const Value& v : txa->Field(14).Repetitions()) ids.Add(EiIdentifier(ctx, v, "PLAC"));
  for (const Value& v : txa->Field(15).Repetitions()) ids.Add(EiIdentifier(ctx, v, "FILL"));
  d.Set("identifier", std::move(ids));
  // TXA-19 document availability status (table 0273); TXA-17 completion status (table 0271).
  const std::string availability = Upper(txa->Field(19).text());
  d.Set("status", availability == "OB"   ? "superseded"
                  : availability == "CA" ? "entered-in-error"
                                         : "current");
  const std::string completion = Upper(txa->Field(17).text());
  if (completion == "AU" || completion == "LA") {
    d.Set("docStatus", "final");
  } else if (completion == "DI" || completion == "DO" || completion == "IP" || completion == "IN" ||
             completion == "PA") {
    d.Set("docStatus", "preliminary");
  }
  d.Set("type", CodeableConcept(ctx, txa->Field(2), "HL70270"));
  d.Set("subject", Reference(ctx.patient_url));
  d.Set("date", Instant(ctx, txa->Field(4).text()));  // TXA-4 activity date/time
  J authors = J::Arr();
  for (const Value& xcn : txa->Field(9).Repetitions()) authors.Add(PractitionerReference(ctx, xcn));
  d.Set("author", std::move(authors));
  for (const Value& xcn : txa->Field(10).Repetitions()) {
    if (J who = PractitionerReference(ctx, xcn); !who.empty()) {
      d.Set("authenticator", std::move(who));
      break;
    }
  }
  // The document: text OBX values (TX, ST, FT, ...) joined line by line as text/plain, an ED
  // value as its own attachment.
  J content = J::Arr();
  std::string text;
  for (const Segment& obx : msg.Segments("OBX")) {
    const std::string type = Upper(obx.Field(2).text());
    if (type == "ED") {
      J attachment = EdAttachment(obx.Field(5));
      attachment.Set("title", obx.Field(3).Component(2).text());
      J c = J::Obj();
      c.Set("attachment", std::move(attachment));
      content.Add(std::move(c));
    } else {
      std::string part = JoinedText(obx.Field(5));
      if (!text.empty()) text += "\n";
      text += part;
    }
  }
  const std::string creation = DateTime(ctx, txa->Field(6).text());  // TXA-6 origination
  if (!text.empty() || content.empty()) {
    J attachment = J::Obj();
    attachment.Set("contentType", "text/plain; charset=utf-8");
    attachment.Set("data", Base64Encode(text));
    attachment.Set("creation", creation);
    J c = J::Obj();
    c.Set("attachment", std::move(attachment));
    J all = J::Arr();
    all.Add(std::move(c));
    for (J& other : content.items()) all.Add(std::move(other));
    content = std::move(all);
  }
  d.Set("content", std::move(content));
  if (!ctx.encounter_url.empty()) {
    J context = J::Obj();
    context.Set("encounter", J::Arr().Add(Reference(ctx.encounter_url)));
    d.Set("context", std::move(context));
  }
  ctx.Add("DocumentReference", std::move(d), key);
}

}  // namespace vesta::hl7v2::internal
