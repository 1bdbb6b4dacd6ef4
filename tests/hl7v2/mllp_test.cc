#include "hl7v2/mllp.h"

#include <gtest/gtest.h>

namespace vesta::hl7v2 {
namespace {

const std::string kA = "MSH|^~\\&|A||||||ADT^A01|1|P|2.5\rPID|1\r";
const std::string kB = "MSH|^~\\&|B||||||ADT^A08|2|P|2.5\r";

TEST(Hl7v2Mllp, FrameWrapsTheMessage) {
  EXPECT_EQ(Frame("abc"), std::string("\x0B"
                                      "abc"
                                      "\x1C\x0D"));
}

TEST(Hl7v2Mllp, ByteByByte) {
  std::string wire = Frame(kA) + Frame(kB);
  FrameDecoder decoder;
  std::vector<std::string> frames;
  for (char c : wire) {
    ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1), &frames).ok());
  }
  EXPECT_EQ(frames, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(decoder.discarded_bytes(), 0u);
  EXPECT_FALSE(decoder.in_frame());
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(Hl7v2Mllp, SeveralFramesPerChunkAndSplitsAnywhere) {
  std::string wire = Frame(kA) + Frame(kB) + Frame(kA);
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(0, cut), &frames).ok());
    ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(cut), &frames).ok());
    EXPECT_EQ(frames, (std::vector<std::string>{kA, kB, kA})) << cut;
    EXPECT_EQ(decoder.discarded_bytes(), 0u) << cut;
  }
}

TEST(Hl7v2Mllp, GarbageBetweenFramesIsDiscardedAndCounted) {
  std::string wire = "\r\nnoise" + Frame(kA) + "\n\n" + Frame(kB) + "xy";
  FrameDecoder decoder;
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(wire, &frames).ok());
  EXPECT_EQ(frames, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(decoder.discarded_bytes(), 7u + 2u + 2u);
}

TEST(Hl7v2Mllp, MissingFinalCarriageReturnStillEndsTheFrame) {
  std::string wire = "\x0B" + kA + "\x1C" + "\x0B" + kB + "\x1C";
  FrameDecoder decoder;
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(wire, &frames).ok());
  EXPECT_EQ(frames, (std::vector<std::string>{kA, kB}));  // answered without waiting
  EXPECT_EQ(decoder.discarded_bytes(), 0u);
}

TEST(Hl7v2Mllp, NewStartBlockAbandonsAnUnfinishedFrame) {
  std::string wire =
      "\x0B"
      "partial" +
      Frame(kB);
  FrameDecoder decoder;
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(wire, &frames).ok());
  EXPECT_EQ(frames, (std::vector<std::string>{kB}));
  EXPECT_EQ(decoder.discarded_bytes(), 8u);  // the start block and "partial"
}

TEST(Hl7v2Mllp, EmptyFrame) {
  FrameDecoder decoder;
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(Frame(""), &frames).ok());
  EXPECT_EQ(frames, (std::vector<std::string>{""}));
}

TEST(Hl7v2Mllp, Oversize) {
  FrameDecoder decoder(kA.size());
  std::vector<std::string> frames;
  // A frame of exactly the bound passes.
  ASSERT_TRUE(decoder.Feed(Frame(kA), &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  // One byte more fails, split across reads as it is, and the frame before it in the same read
  // still comes out.
  std::string big = kA + "x";
  std::string wire = Frame(kB) + Frame(big);
  Status s = decoder.Feed(wire.substr(0, wire.size() - 5), &frames);
  EXPECT_TRUE(s.ok());
  s = decoder.Feed(wire.substr(wire.size() - 5), &frames);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_NE(s.message().find(std::to_string(kA.size())), std::string::npos);
  EXPECT_EQ(frames, (std::vector<std::string>{kA, kB}));
  EXPECT_TRUE(decoder.failed());
  // The decoder stays failed: the caller answers and closes.
  EXPECT_EQ(decoder.Feed(Frame(kB), &frames).code(), StatusCode::kTooLarge);
  EXPECT_EQ(frames.size(), 2u);
}

TEST(Hl7v2Mllp, OversizeByteByByte) {
  FrameDecoder decoder(10);
  std::vector<std::string> frames;
  std::string wire = Frame(std::string(11, 'a'));
  Status last;
  size_t fed = 0;
  for (char c : wire) {
    last = decoder.Feed(std::string_view(&c, 1), &frames);
    ++fed;
    if (!last.ok()) break;
  }
  EXPECT_EQ(last.code(), StatusCode::kTooLarge);
  EXPECT_EQ(fed, 12u);  // the start block and 11 bytes of content
  EXPECT_TRUE(frames.empty());
}

}  // namespace
}  // namespace vesta::hl7v2
