#include "base/strings.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace vesta {
namespace {

using Pieces = std::vector<std::string>;

Pieces Strings(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

TEST(TrimTest, RemovesJsonWhitespaceAtBothEnds) {
  EXPECT_EQ(Trim("  a b \r\n\t"), "a b");
  EXPECT_EQ(Trim("ab"), "ab");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \t\r\n"), "");
  EXPECT_EQ(Trim("\va\f"), "\va\f");  // only space, tab, CR and LF
}

TEST(TrimTest, OtherCharacterSets) {
  EXPECT_EQ(Trim(" \tgzip\r\n", kHttpWhitespace), "gzip\r\n");
  EXPECT_EQ(Trim("--a-b--", "-"), "a-b");
  EXPECT_EQ(TrimRight("  a \n"), "  a");
  EXPECT_EQ(TrimRight(" \n"), "");
  EXPECT_EQ(TrimRight("x;;", ";"), "x");
}

TEST(TrimTest, ResultPointsIntoTheArgument) {
  std::string s = "  abc  ";
  std::string_view t = Trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(Trim("   ").size(), 0u);
}

TEST(CaseTest, AsciiOnly) {
  EXPECT_EQ(Lower("Content-TYPE 123"), "content-type 123");
  EXPECT_EQ(Upper("i9gem.txt"), "I9GEM.TXT");
  EXPECT_EQ(Lower("\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // "Été": UTF-8 bytes untouched
  EXPECT_EQ(Lower('Q'), 'q');
  EXPECT_EQ(Lower('@'), '@');
  EXPECT_EQ(Upper('z'), 'Z');
  EXPECT_EQ(Upper('{'), '{');
  EXPECT_EQ(Lower(""), "");
}

TEST(CaseTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Keep-Alive", "keep-alive"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("close", "closed"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9"));
}

TEST(SplitTest, KeepsEmptyPieces) {
  EXPECT_EQ(Strings(Split("a,,b", ',')), (Pieces{"a", "", "b"}));
  EXPECT_EQ(Strings(Split("", ',')), (Pieces{""}));
  EXPECT_EQ(Strings(Split(",", ',')), (Pieces{"", ""}));
  EXPECT_EQ(Strings(Split("a\tb\t", '\t')), (Pieces{"a", "b", ""}));
  EXPECT_EQ(Strings(Split("a\\,b", ',')), (Pieces{"a\\", "b"}));  // no escapes
}

TEST(SplitTest, Words) {
  EXPECT_EQ(Strings(SplitWords("  a \tbc  d", 10)), (Pieces{"a", "bc", "d"}));
  EXPECT_EQ(Strings(SplitWords("a b c d", 2)), (Pieces{"a", "b"}));
  EXPECT_EQ(Strings(SplitWords(" \t ", 10)), Pieces{});
  EXPECT_EQ(Strings(SplitWords("", 10)), Pieces{});
  EXPECT_EQ(Strings(SplitWords("x", 0)), Pieces{});
  EXPECT_EQ(Strings(SplitWords("a\r\nb c\n", 10)), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(Strings(SplitWords("a\nb c", 10, " \t")), (Pieces{"a\nb", "c"}));
}

TEST(ConsumeDigitsTest, FixedWidthFields) {
  size_t i = 0;
  int v = -1;
  EXPECT_TRUE(ConsumeDigits("2024-01-05", &i, 4, &v));
  EXPECT_EQ(v, 2024);
  EXPECT_EQ(i, 4u);
  EXPECT_FALSE(ConsumeDigits("2024-01-05", &i, 2, &v));  // '-' is not a digit
  EXPECT_EQ(i, 4u);
  EXPECT_EQ(v, 2024);
  i = 5;
  EXPECT_TRUE(ConsumeDigits("2024-01-05", &i, 2, &v));
  EXPECT_EQ(v, 1);
  i = 8;
  EXPECT_TRUE(ConsumeDigits("2024-01-05", &i, 2, &v));
  EXPECT_EQ(v, 5);
  EXPECT_EQ(i, 10u);
  EXPECT_FALSE(ConsumeDigits("2024-01-05", &i, 1, &v));  // at the end
  i = 9;
  EXPECT_FALSE(ConsumeDigits("2024-01-05", &i, 2, &v));  // one digit left
  EXPECT_EQ(i, 9u);
  i = 0;
  EXPECT_FALSE(ConsumeDigits("1a", &i, 2, &v));
  EXPECT_EQ(i, 0u);
}

TEST(HexTest, EncodeAndDecode) {
  EXPECT_EQ(HexEncode("hi"), "6869");
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexDecode("6869"), "hi");
  EXPECT_EQ(HexDecode("00FFaB"), std::string("\x00\xff\xab", 3));
  EXPECT_EQ(HexDecode(""), "");
  EXPECT_EQ(HexDecode("686"), std::nullopt);
  EXPECT_EQ(HexDecode("6g"), std::nullopt);
  EXPECT_EQ(HexDecode(" 68"), std::nullopt);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(HexDecode(HexEncode(all)), all);
}

TEST(HexTest, DigitValue) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('%'), -1);
}

// https://www.rfc-editor.org/rfc/rfc4648#section-10
TEST(Base64Test, Rfc4648TestVectors) {
  const std::pair<std::string, std::string> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : kVectors) {
    EXPECT_EQ(Base64Encode(bytes), text);
    EXPECT_EQ(Base64Decode(text), bytes) << text;
  }
}

TEST(Base64Test, Alphabets) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64Encode(bytes, Base64Alphabet::kUrlSafe), "-_-_");
  EXPECT_EQ(Base64Decode("+/+/"), bytes);
  EXPECT_EQ(Base64Decode("-_-_", Base64Alphabet::kUrlSafe), bytes);
  EXPECT_EQ(Base64Decode("-_-_"), std::nullopt);
  EXPECT_EQ(Base64Decode("+/+/", Base64Alphabet::kUrlSafe), std::nullopt);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64Decode(Base64Encode(all)), all);
  EXPECT_EQ(Base64Decode(Base64Encode(all, Base64Alphabet::kUrlSafe), Base64Alphabet::kUrlSafe),
            all);
}

TEST(Base64Test, WhitespaceAndPadding) {
  EXPECT_EQ(Base64Decode("Zm9v\r\nYmFy"), "foobar");
  EXPECT_EQ(Base64Decode(" Zm 9v\tYg = = \n"), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYg"), "foob");  // padding is optional
  EXPECT_EQ(Base64Decode("Zm9vYg=x"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg==Zg=="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(Base64Decode("===="), "");
}

TEST(PercentDecodeTest, EscapesAndPlus) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%20b+c%2b%2B", PlusIs::kPlus, &out));
  EXPECT_EQ(out, "a b+c++");
  out.clear();
  EXPECT_TRUE(PercentDecode("a%20b+c", PlusIs::kSpace, &out));
  EXPECT_EQ(out, "a b c");
  EXPECT_TRUE(PercentDecode("!", PlusIs::kSpace, &out));  // appends
  EXPECT_EQ(out, "a b c!");
  out.clear();
  EXPECT_TRUE(PercentDecode("%e2%82%AC", PlusIs::kPlus, &out));
  EXPECT_EQ(out, "\xE2\x82\xAC");
  for (std::string_view bad : {"%", "%4", "a%4", "%zz", "%%41", "%4g"}) {
    out.clear();
    EXPECT_FALSE(PercentDecode(bad, PlusIs::kPlus, &out)) << bad;
  }
}

// https://hl7.org/fhir/R4/search.html#escaping
TEST(SearchEscapeTest, SplitEscaped) {
  EXPECT_EQ(SplitEscaped("a,b,c", ','), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(SplitEscaped("", ','), (Pieces{""}));
  EXPECT_EQ(SplitEscaped("a,", ','), (Pieces{"a", ""}));
  // The separator's escape is removed, the others are kept for the next split.
  EXPECT_EQ(SplitEscaped("a\\,b,c|d", ','), (Pieces{"a,b", "c|d"}));
  EXPECT_EQ(SplitEscaped("s\\|x|c\\,d,e", ','), (Pieces{"s\\|x|c,d", "e"}));
  EXPECT_EQ(SplitEscaped("s\\|x|c\\,d", '|'), (Pieces{"s|x", "c\\,d"}));
  EXPECT_EQ(SplitEscaped("a\\$b$c", '$'), (Pieces{"a$b", "c"}));
  // An escaped backslash does not escape the separator after it.
  EXPECT_EQ(SplitEscaped("x\\\\,y", ','), (Pieces{"x\\\\", "y"}));
  // A backslash before anything else, or at the end, stays.
  EXPECT_EQ(SplitEscaped("a\\b,c\\", ','), (Pieces{"a\\b", "c\\"}));
  // Any separator, such as the cursor's '~'.
  EXPECT_EQ(SplitEscaped("1~a\\~b~c\\,d", '~'), (Pieces{"1", "a~b", "c\\,d"}));
}

TEST(SearchEscapeTest, UnescapeAndEscape) {
  EXPECT_EQ(UnescapeSearchValue("a\\,b\\|c\\$d\\\\e"), "a,b|c$d\\e");
  EXPECT_EQ(UnescapeSearchValue("a\\b"), "ab");
  EXPECT_EQ(UnescapeSearchValue("end\\"), "end\\");
  EXPECT_EQ(UnescapeSearchValue(""), "");
  EXPECT_EQ(EscapeSearchValue("http://x|y,z$w\\v"), "http://x\\|y\\,z\\$w\\\\v");
  for (std::string_view s : {"", "plain", "a,b|c$d\\e", "\\\\,,", "end\\"}) {
    EXPECT_EQ(UnescapeSearchValue(EscapeSearchValue(s)), s);
    EXPECT_EQ(SplitEscaped(EscapeSearchValue(s), ',').size(), 1u) << s;
  }
}

TEST(SearchEscapeTest, SplitThenUnescapeRoundTrips) {
  const Pieces codes = {"a,b", "c|d", "e$f", "g\\h", ""};
  std::string joined;
  for (const std::string& c : codes) joined += (joined.empty() ? "" : ",") + EscapeSearchValue(c);
  Pieces back;
  for (const std::string& piece : SplitEscaped(joined, ',')) {
    back.push_back(UnescapeSearchValue(piece));
  }
  EXPECT_EQ(back, codes);
}

// RFC 3629: one to four bytes per code point; malformed input decodes to U+FFFD one byte at a time.
TEST(Utf8Test, EncodeDecodeRoundTrips) {
  for (uint32_t cp : {0x24u, 0xA2u, 0x20ACu, 0x10348u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu,
                      0x10000u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(cp, &s);
    size_t i = 0;
    EXPECT_EQ(NextCodePoint(s, &i), cp);
    EXPECT_EQ(i, s.size());
  }
  std::string euro;
  AppendUtf8(0x20AC, &euro);
  EXPECT_EQ(euro, "\xE2\x82\xAC");
  const std::string bad =
      "\xE2\x82"
      "a\xFF";  // a truncated sequence, then a stray byte
  size_t i = 0;
  EXPECT_EQ(NextCodePoint(bad, &i), 0xFFFDu);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(NextCodePoint(bad, &i), 0xFFFDu);
  EXPECT_EQ(NextCodePoint(bad, &i), static_cast<uint32_t>('a'));
  EXPECT_EQ(NextCodePoint(bad, &i), 0xFFFDu);
  EXPECT_EQ(i, bad.size());
}

}  // namespace
}  // namespace vesta
