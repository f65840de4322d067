#include "fetch/fetch_url.h"

#include <boost/url.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "core/utf8.h"
#include "fetch/address.h"

namespace pixvault::fetch {

namespace urls = boost::urls;

namespace {

constexpr std::size_t kMaxUrlBytes = 8 * 1024;
constexpr std::size_t kMaxFilenameBytes = 255;

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lenient percent-decoding: a malformed escape is kept as it is.
std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Keeps the last path component, drops control characters, repairs UTF-8, caps the length.
std::string SanitizeFilename(std::string_view raw) {
  if (auto slash = raw.find_last_of("/\\"); slash != std::string_view::npos) {
    raw = raw.substr(slash + 1);
  }
  std::string name;
  for (char c : raw) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) name.push_back(c);
  }
  name = SanitizeUtf8(Trim(name));
  if (name.size() > kMaxFilenameBytes) {
    std::size_t cut = kMaxFilenameBytes;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xc0) == 0x80) --cut;
    name.resize(cut);
  }
  if (name == "." || name == "..") return "";
  return name;
}

// The value of parameter `key` in a Content-Disposition header ("" when absent). Handles
// quoted strings with backslash escapes and unquoted tokens.
std::optional<std::string> DispositionParam(std::string_view header, std::string_view key) {
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;  // past ';'
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    std::size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = Trim(header.substr(i, eq - i));
    std::size_t j = eq + 1;
    while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
    std::string value;
    if (j < header.size() && header[j] == '"') {
      ++j;
      while (j < header.size() && header[j] != '"') {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value.push_back(header[j++]);
      }
      if (j < header.size()) ++j;  // closing quote
      i = header.find(';', j);
    } else {
      std::size_t end = header.find(';', j);
      value = std::string(Trim(header.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    if (name.size() == key.size() &&
        std::equal(name.begin(), name.end(), key.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<FetchUrl> ParseFetchUrl(std::string_view text) {
  if (text.size() > kMaxUrlBytes) {
    return Fail(ErrorCode::kInvalidArgument, "URL is longer than 8 KiB");
  }
  auto parsed = urls::parse_uri(text);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "not an absolute URL (" + parsed.error().message() +
                                                 "); give one like https://example.com/a.png");
  }
  const urls::url_view& u = *parsed;
  FetchUrl out;
  if (u.scheme_id() == urls::scheme::https) {
    out.https = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    std::string scheme = u.scheme();
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return Fail(ErrorCode::kInvalidArgument,
                "URL scheme '" + scheme + "' is not allowed; only http and https URLs are fetched");
  }
  if (u.has_userinfo()) {
    return Fail(ErrorCode::kInvalidArgument,
                "URLs with credentials (user:password@host) are not accepted");
  }
  switch (u.host_type()) {
    case urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      out.host_is_ip = true;
      out.host_header = out.host;
      break;
    case urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      out.host_is_ip = true;
      out.host_header = "[" + out.host + "]";
      break;
    case urls::host_type::name: {
      std::string name = u.host_name();
      if (name.empty() || name.size() > 253 || !std::all_of(name.begin(), name.end(), IsHostChar)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "URL host must be a DNS name (ASCII letters, digits, '-', '.'; punycode for "
                    "international names) or an IP address");
      }
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // A percent-encoded IP literal ("%31%32%37.0.0.1") is still an IP literal.
      if (auto ip = IpAddress::Parse(name)) {
        name = ip->ToString();
        out.host_is_ip = true;
      }
      out.host = name;
      out.host_header = name;
      break;
    }
    default:
      return Fail(ErrorCode::kInvalidArgument, "URL has no usable host");
  }
  out.port = out.https ? 443 : 80;
  if (u.has_port()) {
    std::string_view port = u.port();
    if (!port.empty()) {
      int n = 0;
      auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (ec != std::errc() || p != port.data() + port.size() || n < 1 || n > 65535) {
        return Fail(ErrorCode::kInvalidArgument, "URL port must be between 1 and 65535");
      }
      out.port = static_cast<std::uint16_t>(n);
    }
  }
  if (out.port != (out.https ? 443 : 80)) out.host_header += ":" + std::to_string(out.port);
  std::string path(u.encoded_path());
  if (path.empty()) path = "/";
  if (path.front() != '/') return Fail(ErrorCode::kInvalidArgument, "URL path must be absolute");
  out.target = path;
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  std::string origin = std::string(out.https ? "https://" : "http://") + out.host_header;
  out.url = origin + out.target;
  out.redacted = origin + path;
  return out;
}

Result<std::string> ResolveLocation(std::string_view base, std::string_view location) {
  location = Trim(location);
  auto b = urls::parse_uri(base);
  if (!b) return Fail(ErrorCode::kInvalidArgument, "bad base URL");
  auto ref = urls::parse_uri_reference(location);
  if (!ref) {
    return Fail(ErrorCode::kInvalidArgument,
                "redirect Location is not a URL (" + ref.error().message() + ")");
  }
  urls::url dest;
  auto r = urls::resolve(*b, *ref, dest);
  if (!r) return Fail(ErrorCode::kInvalidArgument, "cannot resolve redirect Location");
  dest.remove_fragment();
  return std::string(dest.buffer());
}

std::string FilenameHint(std::string_view content_disposition, std::string_view url) {
  if (!content_disposition.empty()) {
    if (auto ext = DispositionParam(content_disposition, "filename*")) {
      // RFC 5987: charset'language'percent-encoded
      std::string_view v = *ext;
      auto first = v.find('\'');
      auto second = first == std::string_view::npos ? first : v.find('\'', first + 1);
      if (second != std::string_view::npos) {
        std::string name = SanitizeFilename(PercentDecode(v.substr(second + 1)));
        if (!name.empty()) return name;
      }
    }
    if (auto plain = DispositionParam(content_disposition, "filename")) {
      std::string name = SanitizeFilename(*plain);
      if (!name.empty()) return name;
    }
  }
  auto u = urls::parse_uri(url);
  if (!u) return "";
  std::string_view path = u->encoded_path();
  auto slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return SanitizeFilename(PercentDecode(last));
}

}  // namespace pixvault::fetch
