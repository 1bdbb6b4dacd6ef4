// LineReader: plain and gzip text, line ends, byte order marks, limits, broken gzip.
#include "ingest/line_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "store/temp_dir.h"

namespace vesta::ingest {
namespace {

// gzip of `text` as one member (RFC 1952), at zlib's default level.
std::string Gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class LineReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Every line, or the first error as "ERROR: message".
  std::vector<std::string> Lines(const std::string& path, size_t max = kMaxTextBytes) {
    std::vector<std::string> lines;
    Result<std::unique_ptr<LineReader>> in = LineReader::Open(path);
    EXPECT_TRUE(in.ok()) << in.status().message();
    if (!in.ok()) return lines;
    std::string line;
    while (true) {
      Result<bool> more = (*in)->ReadLine(&line, max);
      if (!more.ok()) {
        lines.push_back("ERROR: " + more.status().message());
        if (more.status().code() == StatusCode::kTooLarge) continue;
        break;
      }
      if (!*more) break;
      lines.push_back(line);
    }
    return lines;
  }

  store::TempDir dir_;
};

TEST_F(LineReaderTest, PlainLinesWithLfCrlfAndNoFinalNewline) {
  std::string path = Write("a.ndjson", "one\r\ntwo\n\nthree");
  EXPECT_EQ(Lines(path), (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST_F(LineReaderTest, ByteOrderMarkIsDropped) {
  std::string path = Write("bom.ndjson", "\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(Lines(path), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST_F(LineReaderTest, GzipIsRecognisedByItsMagicBytesNotItsName) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"n\":" + std::to_string(i) + "}\n";
  std::string path = Write("no-suffix.ndjson", Gzip(text));
  std::vector<std::string> lines = Lines(path);
  ASSERT_EQ(lines.size(), 20000u);
  EXPECT_EQ(lines[0], "{\"n\":0}");
  EXPECT_EQ(lines[19999], "{\"n\":19999}");
  Result<std::unique_ptr<LineReader>> in = LineReader::Open(path);
  ASSERT_TRUE(in.ok());
  std::string line;
  ASSERT_TRUE(*(*in)->ReadLine(&line));
  EXPECT_TRUE((*in)->gzip());
  EXPECT_EQ((*in)->line_number(), 1);
}

TEST_F(LineReaderTest, ConcatenatedGzipMembersAreReadInTurn) {
  std::string path = Write("multi.ndjson.gz", Gzip("a\nb\n") + Gzip("c\n") + Gzip("d"));
  EXPECT_EQ(Lines(path), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(LineReaderTest, TruncatedAndCorruptGzipAreErrorsAfterTheGoodLines) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "line " + std::to_string(i) + " of a long file\n";
  std::string gz = Gzip(text);
  std::vector<std::string> truncated = Lines(Write("t.gz", gz.substr(0, gz.size() / 2)));
  ASSERT_FALSE(truncated.empty());
  EXPECT_NE(truncated.back().find("ends in the middle of its gzip data"), std::string::npos)
      << truncated.back();
  EXPECT_EQ(truncated[0], "line 0 of a long file");

  std::string corrupt = gz;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] ^= 0x5a;
  std::vector<std::string> lines = Lines(Write("c.gz", corrupt));
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("ERROR"), std::string::npos);
}

TEST_F(LineReaderTest, ALineOverTheLimitIsReportedAndSkipped) {
  std::string path = Write("long.ndjson", "short\n" + std::string(5000, 'x') + "\nafter\n");
  std::vector<std::string> lines = Lines(path, 1000);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "short");
  EXPECT_NE(lines[1].find("longer than"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2], "after");
}

TEST_F(LineReaderTest, ReadAllReadsWholeFilesUpToTheLimit) {
  std::string doc = "{\n  \"resourceType\": \"Bundle\"\n}\n";
  Result<std::unique_ptr<LineReader>> in = LineReader::Open(Write("b.json.gz", Gzip(doc)));
  ASSERT_TRUE(in.ok());
  Result<std::string> all = (*in)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, doc);

  Result<std::unique_ptr<LineReader>> big =
      LineReader::Open(Write("big.json", std::string(5000, ' ')));
  ASSERT_TRUE(big.ok());
  Result<std::string> refused = (*big)->ReadAll(1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kTooLarge);
}

TEST_F(LineReaderTest, AMissingFileIsNotFound) {
  Result<std::unique_ptr<LineReader>> in = LineReader::Open(dir_.path() + "/absent.ndjson");
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace vesta::ingest
