// Tests for the socket-free pieces of the HTTP server (http/message.h, http/gzip.h), called
// directly; tests/http/server_test.cc covers the same behaviour end to end over sockets.
#include "http/message.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/gzip.h"

namespace vesta::http::internal {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

// https://www.rfc-editor.org/rfc/rfc9112#section-3.2
TEST(HttpMessageTest, ParseTargetForms) {
  Request req;
  ASSERT_TRUE(ParseTarget("/Patient/a%20b?name=J%C3%B6rg+X&x&=v&&y=1=2", req));
  EXPECT_EQ(req.path, "/Patient/a b");
  EXPECT_EQ(req.query, (Query{{"name", "Jörg X"}, {"x", ""}, {"", "v"}, {"y", "1=2"}}));

  req = Request{};
  ASSERT_TRUE(ParseTarget("HTTP://example.org:8080/Patient?_id=1#frag", req));  // §3.2.2
  EXPECT_EQ(req.path, "/Patient");
  EXPECT_EQ(req.query, (Query{{"_id", "1"}}));

  req = Request{};
  ASSERT_TRUE(ParseTarget("http://example.org?x=1", req));
  EXPECT_EQ(req.path, "/");

  req = Request{};
  ASSERT_TRUE(ParseTarget("*", req));  // §3.2.4
  EXPECT_EQ(req.path, "*");

  req = Request{};
  EXPECT_FALSE(ParseTarget("example.org:443", req));  // authority-form (CONNECT)
  EXPECT_FALSE(ParseTarget("ftp://example.org/x", req));
  EXPECT_FALSE(ParseTarget("/bad%zz", req));
  EXPECT_FALSE(ParseTarget("/ok?bad=%4", req));
}

// https://www.rfc-editor.org/rfc/rfc9110#section-12.5.3
TEST(HttpMessageTest, AcceptsGzip) {
  for (const char* yes : {"gzip", "x-gzip", "GZIP", "deflate, gzip;q=0.5", "br;q=1, *;q=0.1",
                          "gzip ; Q=1", "gzip;q=0, gzip"}) {
    EXPECT_TRUE(AcceptsGzip(yes)) << yes;
  }
  for (const char* no :
       {"", "identity", "br", "gzip;q=0", "gzip; q=0.000, identity", "*;q=0", "gzip;q=0, *"}) {
    EXPECT_FALSE(AcceptsGzip(no)) << no;
  }
}

// https://www.rfc-editor.org/rfc/rfc9110#section-5.1, #section-5.5
TEST(HttpMessageTest, HeaderFieldChecks) {
  EXPECT_TRUE(IsToken("Content-Type"));
  EXPECT_TRUE(IsToken("X-a!#$%&'*+.^_`|~1"));
  EXPECT_FALSE(IsToken(""));
  EXPECT_FALSE(IsToken("Bad Name"));
  EXPECT_FALSE(IsToken("Bad:Name"));
  EXPECT_TRUE(IsSafeValue("text/plain; charset=utf-8"));
  EXPECT_FALSE(IsSafeValue("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(IsSafeValue(std::string("a\0b", 3)));
}

// https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7 (IMF-fixdate)
TEST(HttpMessageTest, HttpDateIsImfFixdate) {
  const std::string& date = HttpDate();
  ASSERT_EQ(date.size(), 29u) << date;
  EXPECT_EQ(date.substr(date.size() - 4), " GMT");
  EXPECT_EQ(date[3], ',');
}

TEST(HttpGzipTest, RoundTripAndLimits) {
  std::string body;
  for (int i = 0; i < 2000; ++i)
    body += "{\"resourceType\":\"Observation\",\"id\":\"" + std::to_string(i) + "\"}\n";
  std::string compressed;
  ASSERT_TRUE(GzipCompress(body, compressed));
  EXPECT_LT(compressed.size(), body.size() / 4);
  std::string inflated;
  EXPECT_EQ(GzipInflate(compressed, body.size(), inflated), InflateResult::kOk);
  EXPECT_EQ(inflated, body);
  // One byte under the inflated size: refused, however small the compressed input.
  EXPECT_EQ(GzipInflate(compressed, body.size() - 1, inflated), InflateResult::kTooLarge);
  // Two members back to back (RFC 1952 §2.2) inflate to both.
  EXPECT_EQ(GzipInflate(compressed + compressed, 2 * body.size(), inflated), InflateResult::kOk);
  EXPECT_EQ(inflated, body + body);
  EXPECT_EQ(GzipInflate(compressed.substr(0, compressed.size() / 2), body.size(), inflated),
            InflateResult::kCorrupt);
  EXPECT_EQ(GzipInflate("not gzip", body.size(), inflated), InflateResult::kCorrupt);
}

}  // namespace
}  // namespace vesta::http::internal
