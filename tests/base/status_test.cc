#include "base/status.h"

#include <gtest/gtest.h>

namespace vesta {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Invalid("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s(StatusCode::kInvalid, "bad", {Issue{Severity::kError, "value", "not a date", "Patient.birthDate"}});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_EQ(s.ToString(), "bad\n  Patient.birthDate: not a date");
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(Check(4).ok());
  EXPECT_EQ(Check(3).code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace vesta
