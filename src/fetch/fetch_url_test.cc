#include "fetch/fetch_url.h"

#include <gtest/gtest.h>

namespace pixvault::fetch {
namespace {

TEST(ParseFetchUrl, SplitsHttpAndHttpsUrls) {
  auto u = ParseFetchUrl("HTTPS://Example.COM/a/b%20c.png?x=1&sig=secret#frag");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b%20c.png?x=1&sig=secret");
  EXPECT_EQ(u->host_header, "example.com");
  EXPECT_EQ(u->url, "https://example.com/a/b%20c.png?x=1&sig=secret");
  EXPECT_EQ(u->redacted, "https://example.com/a/b%20c.png");

  auto p = ParseFetchUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_FALSE(p->https);
  EXPECT_TRUE(p->host_is_ip);
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->target, "/");
  EXPECT_EQ(p->host_header, "127.0.0.1:8080");

  auto v6 = ParseFetchUrl("http://[::1]:81/x");
  ASSERT_TRUE(v6.has_value()) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->host_is_ip);
  EXPECT_EQ(v6->host_header, "[::1]:81");

  auto enc = ParseFetchUrl("http://%31%32%37.0.0.1/");
  ASSERT_TRUE(enc.has_value()) << enc.error().message;
  EXPECT_EQ(enc->host, "127.0.0.1");
  EXPECT_TRUE(enc->host_is_ip);
}

TEST(ParseFetchUrl, RefusesOtherSchemesCredentialsAndBadHosts) {
  for (const char* bad :
       {"file:///etc/passwd", "ftp://example.com/a", "gopher://example.com:70/_x",
        "data:text/plain,hi", "javascript:alert(1)", "dict://127.0.0.1:11211/stat",
        "/relative/path", "example.com/a.png", "", "http://", "http:///path",
        "http://exa mple.com/", "http://example.com:0/", "http://example.com:99999/",
        "http://example.com:abc/", "http://[v1.fe]/", "http://ex%00ample.com/",
        "http://bücher.example/"}) {
    auto r = ParseFetchUrl(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  auto cred = ParseFetchUrl("https://admin:hunter2@example.com/a.png");
  ASSERT_FALSE(cred.has_value());
  EXPECT_EQ(cred.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cred.error().message.find("hunter2"), std::string::npos) << cred.error().message;
  EXPECT_EQ(cred.error().message.find("admin"), std::string::npos) << cred.error().message;
  auto file = ParseFetchUrl("FILE:///etc/passwd");
  ASSERT_FALSE(file.has_value());
  EXPECT_NE(file.error().message.find("'file'"), std::string::npos) << file.error().message;
  EXPECT_FALSE(ParseFetchUrl("http://example.com/" + std::string(9000, 'a')).has_value());
}

TEST(ResolveLocation, AbsoluteAndRelative) {
  EXPECT_EQ(*ResolveLocation("http://a.test/x/y?q=1", "/z"), "http://a.test/z");
  EXPECT_EQ(*ResolveLocation("http://a.test/x/y?q=1", "z.png"), "http://a.test/x/z.png");
  EXPECT_EQ(*ResolveLocation("http://a.test/x/y", "../up"), "http://a.test/up");
  EXPECT_EQ(*ResolveLocation("http://a.test/x", "//b.test/p"), "http://b.test/p");
  EXPECT_EQ(*ResolveLocation("http://a.test/x", "https://c.test/p#f"), "https://c.test/p");
  EXPECT_EQ(*ResolveLocation("http://a.test/x", "file:///etc/passwd"), "file:///etc/passwd");
  EXPECT_FALSE(ResolveLocation("http://a.test/x", "http://bad host/").has_value());
}

TEST(FilenameHint, FromContentDispositionOrUrl) {
  EXPECT_EQ(FilenameHint("attachment; filename=\"cat pic.png\"", "http://a/x"), "cat pic.png");
  EXPECT_EQ(FilenameHint("attachment; filename=plain.jpg", "http://a/x"), "plain.jpg");
  EXPECT_EQ(FilenameHint("attachment; filename=\"a.png\"; filename*=UTF-8''%C3%A9t%C3%A9.png",
                         "http://a/x"),
            "\xC3\xA9t\xC3\xA9.png");
  EXPECT_EQ(FilenameHint("inline; FILENAME=\"q\\\"uote.gif\"", "http://a/x"), "q\"uote.gif");
  EXPECT_EQ(FilenameHint("attachment; filename=\"../../etc/passwd\"", "http://a/x"), "passwd");
  EXPECT_EQ(FilenameHint("attachment; filename=\"C:\\\\temp\\\\v.mp4\"", "http://a/x"), "v.mp4");
  EXPECT_EQ(FilenameHint("attachment; filename=\"a\r\nb.png\"", "http://a/x"), "ab.png");
  EXPECT_EQ(FilenameHint("", "http://a/dir/my%20video.mp4?sig=1"), "my video.mp4");
  EXPECT_EQ(FilenameHint("attachment", "http://a/dir/clip.webm"), "clip.webm");
  EXPECT_EQ(FilenameHint("", "http://a/"), "");
  EXPECT_EQ(FilenameHint("", "http://a/dir/.."), "");
  EXPECT_EQ(FilenameHint("", "http://a/%2e%2e"), "");
  EXPECT_EQ(FilenameHint("", "http://a/x%ff.png"), "x\xEF\xBF\xBD.png");
  std::string long_name(300, 'n');
  EXPECT_EQ(FilenameHint("attachment; filename=" + long_name, "http://a/").size(), 255u);
}

}  // namespace
}  // namespace pixvault::fetch
