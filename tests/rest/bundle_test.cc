// The Bundle writer (rest/bundle.h): element order, what is left out, raw resource bytes, and the
// one paging-link format.
#include "rest/bundle.h"

#include <gtest/gtest.h>

namespace vesta::rest {
namespace {

TEST(BundleWriterTest, SearchsetWithTotalLinksAndEntries) {
  BundleHead head;
  head.type = "searchset";
  head.id = "b1";
  head.last_updated = 0;
  head.total = 7;
  head.links = PagingLinks("http://h/Patient", "name=a", "c1");
  BundleWriter bundle(head);
  BundleEntry match;
  match.full_url = "http://h/Patient/1";
  match.resource = R"({"resourceType":"Patient","id":"1","x":1.50})";
  match.search = SearchEntryMode::kMatch;
  bundle.Add(match);
  BundleEntry include;
  include.full_url = "http://h/Organization/o";
  include.resource = R"({"resourceType":"Organization","id":"o"})";
  include.search = SearchEntryMode::kInclude;
  bundle.Add(include);
  EXPECT_EQ(
      bundle.Finish(),
      R"({"resourceType":"Bundle","id":"b1","meta":{"lastUpdated":"1970-01-01T00:00:00.000000Z"},)"
      R"("type":"searchset","total":7,"link":[{"relation":"self","url":"http://h/Patient?name=a"},)"
      R"({"relation":"next","url":"http://h/Patient?name=a&_cursor=c1"}],"entry":[)"
      R"({"fullUrl":"http://h/Patient/1","resource":{"resourceType":"Patient","id":"1","x":1.50},)"
      R"("search":{"mode":"match"}},{"fullUrl":"http://h/Organization/o","resource":)"
      R"({"resourceType":"Organization","id":"o"},"search":{"mode":"include"}}]})");
}

TEST(BundleWriterTest, EmptyEntriesAreLeftOutOrWrittenAsAsked) {
  BundleHead head;
  head.type = "searchset";
  head.id = "b2";
  EXPECT_EQ(BundleWriter(head).Finish(),
            R"({"resourceType":"Bundle","id":"b2","type":"searchset"})");
  head.type = "transaction-response";
  head.empty_entries = EmptyEntries::kWriteEmptyArray;
  EXPECT_EQ(BundleWriter(head).Finish(),
            R"({"resourceType":"Bundle","id":"b2","type":"transaction-response","entry":[]})");
}

TEST(BundleWriterTest, HistoryAndTransactionEntries) {
  BundleHead head;
  head.type = "history";
  head.id = "h";
  BundleWriter bundle(head);
  BundleEntry deletion;
  deletion.full_url = "http://h/Patient/1";
  deletion.request = BundleEntryRequest{"DELETE", "Patient/1"};
  deletion.response = BundleEntryResponse{"204", "", 3, 1000000, ""};
  bundle.Add(deletion);
  BundleEntry failed;  // a batch entry that failed: only a response, with its outcome
  failed.response = BundleEntryResponse{"404 Not Found", "", 0, 0, R"({"resourceType":"X"})"};
  bundle.Add(failed);
  BundleEntry created;
  created.resource = R"({"resourceType":"Basic"})";
  created.response = BundleEntryResponse{"201 Created", "Basic/b/_history/1", 1, 2000000, ""};
  bundle.Add(created);
  EXPECT_EQ(
      bundle.Finish(),
      R"({"resourceType":"Bundle","id":"h","type":"history","entry":[)"
      R"({"fullUrl":"http://h/Patient/1","request":{"method":"DELETE","url":"Patient/1"},)"
      R"("response":{"status":"204","etag":"W/\"3\"","lastModified":"1970-01-01T00:00:01.000000Z"}},)"
      R"({"response":{"status":"404 Not Found","outcome":{"resourceType":"X"}}},)"
      R"({"resource":{"resourceType":"Basic"},"response":{"status":"201 Created",)"
      R"("location":"Basic/b/_history/1","etag":"W/\"1\"",)"
      R"("lastModified":"1970-01-01T00:00:02.000000Z"}}]})");
}

// https://hl7.org/fhir/R4/http.html#paging: one format for search, history and $everything.
TEST(PagingLinksTest, SelfStatesTheQueryAndNextAddsTheCursor) {
  std::vector<BundleLink> links = PagingLinks("http://h/_history", "", "");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].relation, "self");
  EXPECT_EQ(links[0].url, "http://h/_history");

  links = PagingLinks("http://h/_history", "", "12_3");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[1].relation, "next");
  EXPECT_EQ(links[1].url, "http://h/_history?_cursor=12_3");

  links =
      PagingLinks("http://h/Patient/p/$everything",
                  EncodeQuery({{"_count", "2"}, {"_cursor", "old"}, {"_type", "A B"}}), "1.x/y");
  EXPECT_EQ(links[0].url, "http://h/Patient/p/$everything?_count=2&_type=A%20B");
  EXPECT_EQ(links[1].url, "http://h/Patient/p/$everything?_count=2&_type=A%20B&_cursor=1.x%2Fy");
}

TEST(FullUrlTest, TypeAndIdUnderTheBase) {
  EXPECT_EQ(FullUrl("http://h", "Patient", "1"), "http://h/Patient/1");
}

}  // namespace
}  // namespace vesta::rest
