#include "core/utf8.h"

#include <gtest/gtest.h>

namespace pixvault {
namespace {

TEST(Utf8, ValidTextIsUnchanged) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("d\xC3\xA9j\xC3\xA0 vu \xF0\x9F\x8E\xAC"));
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_FALSE(IsValidUtf8("bad\xFF.mp4"));
  EXPECT_EQ(SanitizeUtf8("bad\xFF.mp4"), "bad\xEF\xBF\xBD.mp4");
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));      // truncated
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xE2\x82")));
}

}  // namespace
}  // namespace pixvault

#include "core/text.h"

namespace pixvault {
namespace {

TEST(Text, SplitCommaListTrimsAndDropsEmptyItems) {
  EXPECT_EQ(SplitCommaList(" a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitCommaList("").empty());
  EXPECT_TRUE(SplitCommaList(" , ").empty());
}

}  // namespace
}  // namespace pixvault
