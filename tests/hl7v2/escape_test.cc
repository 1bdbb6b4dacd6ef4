#include "hl7v2/escape.h"

#include <gtest/gtest.h>

namespace vesta::hl7v2 {
namespace {

// HL7 v2.5.1 chapter 2, section 2.7: the escape sequences, one row each.
TEST(Hl7v2Escape, Table) {
  Delimiters d;
  d.truncation = '#';
  struct Case {
    const char* raw;
    const char* text;
  } cases[] = {
      {"a\\F\\b", "a|b"},
      {"a\\S\\b", "a^b"},
      {"a\\T\\b", "a&b"},
      {"a\\R\\b", "a~b"},
      {"a\\E\\b", "a\\b"},
      {"a\\P\\b", "a#b"},
      {"\\X41\\\\X4243\\", "ABC"},
      {"\\Xc3a9\\", "\xC3\xA9"},
      {"line 1\\.br\\line 2", "line 1\nline 2"},
      {"\\H\\bold\\N\\ text", "bold text"},
      {"\\Zlocal\\", "\\Zlocal\\"},  // locally defined: kept
      {"\\C2842\\x", "\\C2842\\x"},  // character set switch: kept
      {"\\.sp 2\\", "\\.sp 2\\"},    // other formatting commands: kept
      {"\\X4\\", "\\X4\\"},          // odd number of hex digits: kept
      {"\\XZZ\\", "\\XZZ\\"},        // not hex: kept
      {"\\Q\\", "\\Q\\"},            // unknown: kept
      {"open \\F", "open \\F"},      // unterminated: kept
      {"\\\\F\\", "\\|"},            // an empty sequence, then \F\ .
      {"A\\T\\E", "A&E"},
      {"no escapes", "no escapes"},
  };
  for (const Case& c : cases) EXPECT_EQ(Unescape(c.raw, d), c.text) << c.raw;
}

TEST(Hl7v2Escape, UndeclaredDelimitersAreKept) {
  Delimiters d;  // no truncation character (before v2.7)
  EXPECT_EQ(Unescape("\\P\\", d), "\\P\\");
  Delimiters no_escape;
  no_escape.escape = '\0';
  EXPECT_EQ(Unescape("a\\F\\b", no_escape), "a\\F\\b");
}

TEST(Hl7v2Escape, OtherDelimiters) {
  Delimiters d{'!', '@', '*', '$', '%', '\0'};
  EXPECT_EQ(Unescape("x$F$y$S$z$T$w$R$v$E$", d), "x!y@z%w*v$");
  EXPECT_EQ(Escape("x!y@z%w*v$", d), "x$F$y$S$z$T$w$R$v$E$");
  // The standard characters are plain data under other delimiters.
  EXPECT_EQ(Escape("a|b^c", d), "a|b^c");
}

TEST(Hl7v2Escape, EscapeRoundTrips) {
  Delimiters d;
  d.truncation = '#';
  std::string text = "a|b^c&d~e\\f#g\rh\ni";
  std::string raw = Escape(text, d);
  EXPECT_EQ(raw, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\P\\g\\X0D\\h\\X0A\\i");
  EXPECT_EQ(Unescape(raw, d), text);
}

TEST(Hl7v2Escape, EncodingCharacters) {
  Delimiters d;
  EXPECT_EQ(d.EncodingCharacters(), "^~\\&");
  d.truncation = '#';
  EXPECT_EQ(d.EncodingCharacters(), "^~\\&#");
  EXPECT_TRUE(d.IsDelimiter('#'));
  EXPECT_FALSE(d.IsDelimiter('\0'));
}

}  // namespace
}  // namespace vesta::hl7v2
