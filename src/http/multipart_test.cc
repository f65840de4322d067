#include "http/multipart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace pixvault::http {
namespace {

using namespace std::string_literals;

constexpr std::string_view kBoundary = "XyZ";

// Every event as text, so that two runs compare with one EXPECT_EQ.
struct Recorder {
  std::string log;
  std::vector<std::string> bodies;
  std::size_t largest_data = 0;

  MultipartParser::Callbacks Callbacks() {
    return {.on_part_begin = [this](const PartHeaders& h) -> Status {
              log += "begin name=" + h.name + " file=" + h.filename.value_or("<none>") +
                     " type=" + h.content_type + "\n";
              bodies.emplace_back();
              return Ok();
            },
            .on_part_data = [this](std::span<const std::byte> data) -> Status {
              EXPECT_FALSE(data.empty());
              largest_data = std::max(largest_data, data.size());
              bodies.back().append(reinterpret_cast<const char*>(data.data()), data.size());
              return Ok();
            },
            .on_part_end = [this]() -> Status {
              log += "end data=" + bodies.back() + "\n";
              return Ok();
            }};
  }
};

std::string Describe(const Recorder& r, const Status& s) {
  return r.log + (s ? "ok" : "error: " + s.error().message);
}

// Feeds `body` cut at `cuts` (ascending offsets), then finishes; returns the event log.
std::string ParseCut(std::string_view body, const std::vector<std::size_t>& cuts,
                     MultipartLimits limits = {}, std::string boundary = std::string(kBoundary)) {
  Recorder r;
  MultipartParser parser(std::move(boundary), limits, r.Callbacks());
  std::size_t start = 0;
  Status s = Ok();
  for (std::size_t end : cuts) {
    if (s) s = parser.Feed(body.substr(start, end - start));
    start = end;
  }
  if (s) s = parser.Feed(body.substr(start));
  if (s) s = parser.Finish();
  return Describe(r, s);
}

std::string Parse(std::string_view body, MultipartLimits limits = {}) {
  return ParseCut(body, {}, limits);
}

std::string OneByteAtATime(std::string_view body) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
  return ParseCut(body, cuts);
}

std::string Field(std::string_view disposition, std::string_view data,
                  std::string_view extra_headers = "") {
  return "--XyZ\r\nContent-Disposition: form-data; " + std::string(disposition) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(data) + "\r\n";
}
const std::string kClose = "--XyZ--\r\n";

// Data that starts like a delimiter but is not one, in every way the parser must tell apart.
const std::string kLookalikes =
    "\r\n--XyZX\r\n--Xy\r\r\n--XyZ-z\r\n--XyZ \t!\r\n--XyZ \rx\r\n--XyZ\rY--XyZ\r\n-\r\r\r\n--"s;

const std::string kSample =
    "preamble\r\n" + Field("name=\"title\"", "Sunset") + Field("name=\"tags\"", "a,b") +
    Field("name=\"file\"; filename=\"s.bin\"", kLookalikes, "Content-Type: image/png\r\n") +
    kClose + "epilogue";

TEST(MultipartParser, ParsesTwoFieldsAndAFile) {
  EXPECT_EQ(Parse(kSample),
            "begin name=title file=<none> type=text/plain\nend data=Sunset\n"
            "begin name=tags file=<none> type=text/plain\nend data=a,b\n"
            "begin name=file file=s.bin type=image/png\nend data=" +
                kLookalikes + "\nok");
}

TEST(MultipartParser, EverySplitPositionGivesTheSameResult) {
  const std::string whole = Parse(kSample);
  for (std::size_t cut = 0; cut <= kSample.size(); ++cut) {
    ASSERT_EQ(ParseCut(kSample, {cut}), whole) << "cut at " << cut;
  }
  EXPECT_EQ(OneByteAtATime(kSample), whole);
}

TEST(MultipartParser, LookalikesAtEveryPositionOfAPartAreData) {
  for (std::size_t n = 0; n <= kLookalikes.size(); ++n) {
    // A bare prefix may end in a real delimiter ("\r\n--XyZ"); "!" after it makes it data.
    const std::string data = kLookalikes.substr(0, n) + "!";
    const std::string body = Field("name=\"f\"", data) + kClose;
    ASSERT_EQ(OneByteAtATime(body),
              "begin name=f file=<none> type=text/plain\nend data=" + data + "\nok")
        << n;
  }
}

TEST(MultipartParser, BoundaryFromContentType) {
  auto b = [](std::string_view ct) { return MultipartParser::BoundaryFromContentType(ct); };
  EXPECT_EQ(b("multipart/form-data; boundary=XyZ").value(), "XyZ");
  EXPECT_EQ(b("Multipart/Form-Data;BOUNDARY=\"a b:c\" ; charset=utf-8;").value(), "a b:c");
  EXPECT_EQ(b("multipart/form-data; charset=x; boundary=----WebKitFormBoundary7MA4").value(),
            "----WebKitFormBoundary7MA4");
  EXPECT_EQ(b("multipart/form-data; boundary=" + std::string(70, 'b')).value(),
            std::string(70, 'b'));
  for (std::string bad :
       {"multipart/form-data",
        "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
        "multipart/mixed; boundary=a", "multipart/form-data; boundary=a; boundary=b", "",
        "multipart/form-data; boundary=\"a b \"", "multipart/form-data; boundary=\"a;b\"",
        "multipart/form-data; boundary=\"abc", "multipart/form-data; x"}) {
    ASSERT_FALSE(b(bad)) << bad;
    EXPECT_EQ(b(bad).error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(b("multipart/form-data; boundary=" + std::string(71, 'b')));
}

TEST(MultipartParser, WrongBoundaryFindsNoPart) {
  Recorder r;
  MultipartParser parser("other", {}, r.Callbacks());
  ASSERT_TRUE(parser.Feed(kSample));
  auto s = parser.Finish();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("no boundary"), std::string::npos);
  EXPECT_EQ(r.log, "");
}

TEST(MultipartParser, RejectsBadPartHeaders) {
  const std::pair<std::string, std::string> cases[] = {
      {"--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n", "has no name"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n", "empty name"},
      {"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n", "no Content-Disposition"},
      {"--XyZ\r\n\r\nx\r\n", "no Content-Disposition"},
      {"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n", "not form-data"},
      {"--XyZ\r\nContent-Disposition form-data\r\n\r\n", "malformed header line"},
      {"--XyZ\r\nBad Name: x\r\n\r\n", "malformed header name"},
      {"--XyZ\r\n folded: x\r\n\r\n", "folded"},
      {"--XyZ\r\nX: a\nb\r\n\r\n", "control character"},
      {"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n", "duplicate"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\n", "unterminated"},
      {"--XyZ\r\nContent-Disposition: form-data; name=a; filename*=latin1''x\r\n\r\n", "charset"},
      {"--XyZ\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''%FF\r\n\r\n", "UTF-8"},
      {"--XyZ\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''%4\r\n\r\n", "percent"},
  };
  for (const auto& [body, message] : cases) {
    const std::string out = Parse(body + kClose);
    EXPECT_NE(out.find("error: multipart: "), std::string::npos) << out;
    EXPECT_NE(out.find(message), std::string::npos) << out;
    EXPECT_EQ(out.find("begin"), std::string::npos) << out;
  }
}

TEST(MultipartParser, DecodesQuotedStringsAndFilenameStar) {
  EXPECT_EQ(Parse(Field("name=\"a\\\"b\\\\c\"; filename=\"C:\\dir\\x.txt\"", "1") +
                  Field("name=n; filename=\"plain.txt\"; filename*=UTF-8'en'%E2%82%AC%20x.txt", "2",
                        "content-type: text/csv; charset=utf-8\r\nX-Other: y\r\n") +
                  kClose),
            "begin name=a\"b\\c file=C:\\dir\\x.txt type=text/plain\nend data=1\n"
            "begin name=n file=\xE2\x82\xAC x.txt type=text/csv; charset=utf-8\nend data=2\nok");
}

TEST(MultipartParser, DeliversSeveralFilesAndEmptyParts) {
  EXPECT_EQ(Parse(Field("name=\"f\"; filename=\"a\"", "AAA") +
                  Field("name=\"f\"; filename=\"b\"", "BBBB") +
                  Field("name=\"empty\"; filename=\"\"", "") + kClose),
            "begin name=f file=a type=text/plain\nend data=AAA\n"
            "begin name=f file=b type=text/plain\nend data=BBBB\n"
            "begin name=empty file= type=text/plain\nend data=\nok");
}

TEST(MultipartParser, PassesBinaryDataThrough) {
  std::string binary;
  for (int rep = 0; rep < 3; ++rep) {
    for (int c = 0; c < 256; ++c) binary += static_cast<char>(c);
  }
  binary += "\0\r\n\0--XyZ\0"s;
  const std::string body = Field("name=\"bin\"; filename=\"b\"", binary) + kClose;
  const std::string expected = "begin name=bin file=b type=text/plain\nend data=" + binary + "\nok";
  EXPECT_EQ(Parse(body), expected);
  EXPECT_EQ(OneByteAtATime(body), expected);
}

TEST(MultipartParser, AcceptsPaddingEmptyBodyAndNoPreamble) {
  EXPECT_EQ(Parse("--XyZ \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZ--"),
            "begin name=a file=<none> type=text/plain\nend data=v\nok");
  EXPECT_EQ(Parse("--XyZ--\r\n"), "ok");
  EXPECT_EQ(Parse("\r\n--XyZ--"), "ok");
  EXPECT_NE(Parse("--XyZ" + std::string(65, ' ') + "\r\n").find("padding"), std::string::npos);
}

TEST(MultipartParser, TruncatedBodiesFailInFinish) {
  const std::string full = Field("name=a", "value") + kClose;
  for (std::size_t n : {full.size() - 4, full.size() - 9, full.size() - 12, std::size_t{8}}) {
    const std::string out = Parse(full.substr(0, n));
    EXPECT_NE(out.find("error: multipart: body ended before the closing boundary"),
              std::string::npos)
        << n << ": " << out;
  }
  EXPECT_NE(Parse("").find("no boundary"), std::string::npos);
}

TEST(MultipartParser, EnforcesLimits) {
  MultipartLimits limits;
  limits.max_header_bytes = 100;
  EXPECT_EQ(Parse(Field("name=a", "1", "X: " + std::string(40, 'x') + "\r\n") + kClose, limits),
            "begin name=a file=<none> type=text/plain\nend data=1\nok");
  EXPECT_NE(Parse(Field("name=a", "1", "X: " + std::string(100, 'x') + "\r\n") + kClose, limits)
                .find("error: multipart: part headers longer than 100 bytes"),
            std::string::npos);

  limits = {};
  limits.max_parts = 2;
  EXPECT_NE(Parse(Field("name=a", "") + Field("name=a", "") + kClose, limits).find("ok"),
            std::string::npos);
  const std::string three =
      Parse(Field("name=a", "") + Field("name=a", "") + Field("name=a", "") + kClose, limits);
  EXPECT_NE(three.find("error: multipart: more than 2 parts"), std::string::npos) << three;

  limits = {};
  limits.max_preamble_bytes = 4;
  limits.max_epilogue_bytes = 4;
  EXPECT_EQ(Parse("1234\r\n--XyZ--\r\n12", limits), "ok");
  EXPECT_NE(Parse("12345\r\n--XyZ--", limits).find("before the first"), std::string::npos);
  EXPECT_NE(Parse("--XyZ--\r\n123", limits).find("after the closing"), std::string::npos);
}

TEST(MultipartParser, CallbackErrorsPropagateAndStick) {
  int data_calls = 0;
  MultipartParser::Callbacks cb;
  cb.on_part_data = [&](std::span<const std::byte>) -> Status {
    ++data_calls;
    return Fail(ErrorCode::kUnavailable, "disk full");
  };
  MultipartParser parser(std::string(kBoundary), {}, cb);
  auto s = parser.Feed(Field("name=a", "data") + kClose);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(s.error().message, "disk full");
  EXPECT_EQ(parser.Feed("more").error().message, "disk full");
  EXPECT_EQ(parser.Finish().error().message, "disk full");
  EXPECT_EQ(data_calls, 1);

  cb = {};
  cb.on_part_begin = [](const PartHeaders& h) -> Status {
    return Fail(ErrorCode::kPermissionDenied, "no field " + h.name);
  };
  MultipartParser rejecting(std::string(kBoundary), {}, cb);
  EXPECT_EQ(rejecting.Feed(Field("name=x", "1")).error().message, "no field x");
}

TEST(MultipartParser, InvalidBoundaryAndMisuseFail) {
  MultipartParser bad("a\rb", {}, {});
  EXPECT_EQ(bad.Feed("x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(bad.Finish());

  MultipartParser parser(std::string(kBoundary), {}, {});
  ASSERT_TRUE(parser.Feed(kClose));
  ASSERT_TRUE(parser.Finish());
  EXPECT_EQ(parser.Feed("x").error().code, ErrorCode::kInternal);
}

TEST(MultipartParser, StreamsTenMebibytesWithBoundedMemory) {
  constexpr std::size_t kSize = 10 << 20;
  constexpr std::size_t kChunk = 64 << 10;
  const std::string boundary = "----pixvault-boundary-7f3a9c";
  std::mt19937 rng(42);
  std::vector<char> content(kSize);
  for (char& c : content) c = static_cast<char>(rng() % 8 == 0 ? '\r' : rng() & 0xff);
  const std::string head = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n";
  const std::string tail = "\r\n--" + boundary + "--\r\n";

  std::size_t received = 0;
  bool same = true;
  std::size_t largest = 0;
  MultipartParser::Callbacks cb;
  cb.on_part_data = [&](std::span<const std::byte> d) -> Status {
    largest = std::max(largest, d.size());
    same = same && received + d.size() <= kSize &&
           std::equal(
               d.begin(), d.end(),
               std::as_bytes(std::span(content)).begin() + static_cast<std::ptrdiff_t>(received));
    received += d.size();
    return Ok();
  };
  MultipartParser parser(boundary, {}, cb);
  ASSERT_TRUE(parser.Feed(head));
  std::size_t most_buffered = 0;
  for (std::size_t off = 0; off < kSize; off += kChunk) {
    ASSERT_TRUE(parser.Feed(std::string_view(content.data() + off, std::min(kChunk, kSize - off))));
    most_buffered = std::max(most_buffered, parser.buffered_bytes());
  }
  ASSERT_TRUE(parser.Feed(tail));
  ASSERT_TRUE(parser.Finish());
  EXPECT_EQ(received, kSize);
  EXPECT_TRUE(same);
  EXPECT_LE(largest, kChunk);
  EXPECT_LT(most_buffered, 2u * 1024);
}

}  // namespace
}  // namespace pixvault::http
