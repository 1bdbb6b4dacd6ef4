#include "generate/json_out.h"

#include <charconv>
#include <cmath>

#include "json/writer.h"

namespace vesta::generate {

JsonOut& JsonOut::Begin() {
  Comma();
  out_->push_back('{');
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::End() {
  out_->push_back('}');
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::BeginArray() {
  Comma();
  out_->push_back('[');
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::Key(std::string_view key) {
  Comma();
  json::WriteString(key, out_);
  out_->push_back(':');
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::Str(std::string_view value) {
  Comma();
  json::WriteString(value, out_);
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::Raw(std::string_view text) {
  Comma();
  out_->append(text);
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::Int(int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return Raw(std::string_view(buf, static_cast<size_t>(end - buf)));
}

JsonOut& JsonOut::Dec(double value, int places) {
  // Round through an integer so the text never depends on the C library's formatting, and so
  // that -0.0 never appears.
  static constexpr int64_t kScale[] = {1, 10, 100, 1000, 10000};
  const int64_t scale = kScale[places < 0 ? 0 : (places > 4 ? 4 : places)];
  const int64_t scaled = std::llround(value * static_cast<double>(scale));
  const bool negative = scaled < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-scaled) : static_cast<uint64_t>(scaled);
  std::string text = negative ? "-" : "";
  text += std::to_string(magnitude / static_cast<uint64_t>(scale));
  if (scale > 1) {
    std::string frac = std::to_string(magnitude % static_cast<uint64_t>(scale));
    text.push_back('.');
    text.append(static_cast<size_t>(places) - frac.size(), '0');
    text += frac;
  }
  return Raw(text);
}

JsonOut& JsonOut::Bool(bool value) { return Raw(value ? "true" : "false"); }

}  // namespace vesta::generate
