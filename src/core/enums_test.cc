#include "core/enums.h"

#include <gtest/gtest.h>

namespace pixvault {
namespace {

TEST(Enums, RoundTripEveryName) {
  for (const auto& [v, name] : EnumNames<OperationType>::kValues) {
    auto parsed = Parse<OperationType>(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, v);
    EXPECT_EQ(ToString(v), name);
  }
  EXPECT_EQ(ToString(MediaType::kModel3d), "3d_model");
}

TEST(Enums, UnknownNameListsChoices) {
  auto r = Parse<ContentRating>("spicy");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("general, mature, adult, explicit"), std::string::npos);
}

}  // namespace
}  // namespace pixvault
