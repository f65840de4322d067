#include "http/multipart.h"

#include <cstring>

#include "core/utf8.h"

namespace pixvault::http {
namespace {

constexpr std::size_t kMaxBoundary = 70;  // RFC 2046 section 5.1.1
constexpr std::size_t kMaxPadding = 64;

tl::unexpected<Error> Bad(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, "multipart: " + std::move(message));
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsCtl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
bool IsOneOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }
// RFC 9110 token characters.
bool IsTchar(char c) { return IsAlnum(c) || IsOneOf(c, "!#$%&'*+-.^_`|~"); }
// RFC 2046 boundary characters.
bool IsBchar(char c) { return IsAlnum(c) || IsOneOf(c, "'()+_,-./:=? "); }

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

struct Param {
  std::string_view name;
  std::string value;  // unquoted
};
struct ParamList {
  std::string_view type;
  std::vector<Param> params;
};

// Parses `type *( OWS ";" OWS [ name OWS "=" OWS ( token / quoted-string ) ] )`, the shape
// shared by Content-Type and Content-Disposition. Empty parameters (";;") are tolerated.
Result<ParamList> ParseParams(std::string_view s, std::string_view header) {
  const std::string where = " in " + std::string(header);
  ParamList out;
  std::size_t i = 0;
  auto skip_wsp = [&] {
    while (i < s.size() && IsWsp(s[i])) ++i;
  };
  skip_wsp();
  std::size_t start = i;
  while (i < s.size() && (IsTchar(s[i]) || s[i] == '/')) ++i;
  out.type = s.substr(start, i - start);
  if (out.type.empty()) return Bad("missing type" + where);
  for (;;) {
    skip_wsp();
    if (i == s.size()) return out;
    if (s[i] != ';') return Bad("expected ';'" + where);
    ++i;
    skip_wsp();
    if (i == s.size() || s[i] == ';') continue;
    start = i;
    while (i < s.size() && IsTchar(s[i])) ++i;
    Param p{s.substr(start, i - start), {}};
    if (p.name.empty()) return Bad("malformed parameter" + where);
    skip_wsp();
    if (i == s.size() || s[i] != '=') return Bad("parameter without '='" + where);
    ++i;
    skip_wsp();
    if (i < s.size() && s[i] == '"') {
      // Only \" and \\ are escapes: browsers send backslashes in file names unescaped.
      for (++i;; ++i) {
        if (i == s.size()) return Bad("unterminated quoted string" + where);
        if (s[i] == '"') break;
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
        p.value += s[i];
      }
      ++i;
    } else {
      start = i;
      while (i < s.size() && !IsCtl(s[i]) && !IsWsp(s[i]) && s[i] != ';' && s[i] != '"') ++i;
      if (i == start) return Bad("empty parameter value" + where);
      p.value.assign(s.substr(start, i - start));
    }
    out.params.push_back(std::move(p));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset "'" [ language ] "'" pct-encoded-value. Only UTF-8.
Result<std::string> DecodeExtValue(std::string_view v) {
  const auto q1 = v.find('\'');
  const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return Bad("malformed filename*");
  if (!IEquals(v.substr(0, q1), "utf-8")) return Bad("filename* charset is not UTF-8");
  std::string out;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    const int hi = i + 2 < v.size() ? HexValue(v[i + 1]) : -1;
    const int lo = hi < 0 ? -1 : HexValue(v[i + 2]);
    if (lo < 0) return Bad("malformed percent-encoding in filename*");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.find('\0') != std::string::npos || !IsValidUtf8(out)) {
    return Bad("filename* is not valid UTF-8 text");
  }
  return out;
}

Status ApplyDisposition(std::string_view value, PartHeaders& h) {
  PV_ASSIGN_OR_RETURN(ParamList parsed, ParseParams(value, "Content-Disposition"));
  if (!IEquals(parsed.type, "form-data")) return Bad("Content-Disposition is not form-data");
  std::optional<std::string> name, filename, filename_ext;
  for (Param& p : parsed.params) {
    std::optional<std::string>* slot = IEquals(p.name, "name")        ? &name
                                       : IEquals(p.name, "filename")  ? &filename
                                       : IEquals(p.name, "filename*") ? &filename_ext
                                                                      : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) return Bad("duplicate Content-Disposition parameter");
    *slot = std::move(p.value);
  }
  if (!name) return Bad("part has no name");
  if (name->empty()) return Bad("part has an empty name");
  if (filename_ext) {
    PV_ASSIGN_OR_RETURN(filename, DecodeExtValue(*filename_ext));  // RFC 6266 4.3: * wins
  }
  h.name = std::move(*name);
  h.filename = std::move(filename);
  return Ok();
}

// `block` is a complete header block: lines ending in CRLF, then an empty line.
Result<PartHeaders> ParseHeaderBlock(std::string_view block) {
  PartHeaders h;
  bool has_disposition = false;
  bool has_type = false;
  block.remove_suffix(2);  // the empty line
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (IsWsp(line.front())) return Bad("folded header lines are not supported");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Bad("malformed header line");
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTchar(c)) return Bad("malformed header name");
    }
    const std::string_view value = TrimWsp(line.substr(colon + 1));
    for (char c : value) {
      if (IsCtl(c) && c != '\t') return Bad("control character in header " + std::string(name));
    }
    if (IEquals(name, "content-disposition")) {
      if (has_disposition) return Bad("duplicate Content-Disposition header");
      has_disposition = true;
      PV_RETURN_IF_ERROR(ApplyDisposition(value, h));
    } else if (IEquals(name, "content-type")) {
      if (has_type) return Bad("duplicate Content-Type header");
      has_type = true;
      h.content_type.assign(value);
    }
    h.raw.emplace_back(std::string(name), std::string(value));
  }
  if (!has_disposition) return Bad("part has no Content-Disposition header");
  if (h.content_type.empty()) h.content_type = "text/plain";  // RFC 7578 section 4.4
  return h;
}

}  // namespace

std::optional<std::string_view> PartHeaders::Find(std::string_view header_name) const {
  for (const auto& [key, value] : raw) {
    if (IEquals(key, header_name)) return value;
  }
  return std::nullopt;
}

Result<std::string> MultipartParser::BoundaryFromContentType(std::string_view content_type) {
  PV_ASSIGN_OR_RETURN(ParamList parsed, ParseParams(content_type, "Content-Type"));
  if (!IEquals(parsed.type, "multipart/form-data")) {
    return Bad("Content-Type is not multipart/form-data");
  }
  std::optional<std::string> boundary;
  for (Param& p : parsed.params) {
    if (!IEquals(p.name, "boundary")) continue;
    if (boundary) return Bad("duplicate boundary parameter");
    boundary = std::move(p.value);
  }
  if (!boundary) return Bad("Content-Type has no boundary parameter");
  PV_RETURN_IF_ERROR(ValidateBoundary(*boundary));
  return std::move(*boundary);
}

Status MultipartParser::ValidateBoundary(std::string_view boundary) {
  if (boundary.empty()) return Bad("empty boundary");
  if (boundary.size() > kMaxBoundary) return Bad("boundary longer than 70 characters");
  for (char c : boundary) {
    if (!IsBchar(c)) return Bad("invalid character in boundary");
  }
  if (boundary.back() == ' ') return Bad("boundary ends with a space");
  return Ok();
}

MultipartParser::MultipartParser(std::string boundary, MultipartLimits limits, Callbacks callbacks)
    : delimiter_("\r\n--" + boundary), limits_(limits), callbacks_(std::move(callbacks)) {
  // The matcher relies on CR occurring only at delimiter_[0]; bchars exclude CR.
  if (auto valid = ValidateBoundary(boundary); !valid) error_ = valid.error();
}

Status MultipartParser::Feed(std::span<const std::byte> chunk) {
  if (error_) return Fail(*error_);
  if (finished_) return Abort(Error{ErrorCode::kInternal, "multipart: Feed after Finish"});
  if (auto status = Step(chunk); !status) return Abort(std::move(status).error());
  return Ok();
}

Status MultipartParser::Finish() {
  if (error_) return Fail(*error_);
  finished_ = true;
  if (state_ == State::kEpilogue) return Ok();
  if (state_ == State::kPreamble) {
    return Abort(Bad("no boundary delimiter found (wrong boundary?)").value());
  }
  return Abort(Bad("body ended before the closing boundary (truncated?)").value());
}

Status MultipartParser::Abort(Error error) {
  error_ = error;
  return Fail(std::move(error));
}

Status MultipartParser::Step(std::span<const std::byte> chunk) {
  const char* data = reinterpret_cast<const char*>(chunk.data());
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    switch (state_) {
      case State::kPreamble:
      case State::kData:
        PV_RETURN_IF_ERROR(ScanBody(data, chunk.size(), &pos));
        break;
      case State::kSuffix: {
        bool reprocess = false;
        PV_RETURN_IF_ERROR(StepSuffix(data[pos], &reprocess));
        if (!reprocess) ++pos;
        break;
      }
      case State::kHeaders:
        PV_RETURN_IF_ERROR(StepHeaders(data[pos++]));
        break;
      case State::kEpilogue:
        epilogue_ += chunk.size() - pos;
        pos = chunk.size();
        if (epilogue_ > limits_.max_epilogue_bytes) {
          return Bad("more than " + std::to_string(limits_.max_epilogue_bytes) +
                     " bytes after the closing boundary");
        }
        break;
    }
  }
  return Ok();
}

Status MultipartParser::ScanBody(const char* data, std::size_t size, std::size_t* pos) {
  std::size_t i = *pos;
  std::size_t run = i;  // start of this chunk's undelivered data; unused while match_ > 0
  while (i < size) {
    if (match_ == 0) {
      const void* cr = std::memchr(data + i, '\r', size - i);
      if (cr == nullptr) break;
      i = static_cast<std::size_t>(static_cast<const char*>(cr) - data);
      PV_RETURN_IF_ERROR(Emit(data + run, i - run));
      match_ = 1;
      ++i;
    } else if (data[i] == delimiter_[match_]) {
      ++i;
      if (++match_ == delimiter_.size()) {
        state_ = State::kSuffix;
        *pos = i;
        return Ok();
      }
    } else {
      // The matched prefix was data after all. CR occurs only at delimiter_[0], so no
      // suffix of that prefix can begin another match: only data[i] needs a second look.
      const std::size_t held = match_;
      match_ = 0;
      PV_RETURN_IF_ERROR(Emit(delimiter_.data(), held));
      run = i;
    }
  }
  if (match_ == 0) PV_RETURN_IF_ERROR(Emit(data + run, size - run));
  *pos = size;
  return Ok();
}

Status MultipartParser::StepSuffix(char c, bool* reprocess) {
  const bool after_dash = suffix_ == "-";
  const bool after_cr = !suffix_.empty() && suffix_.back() == '\r';
  if ((suffix_.empty() && c == '-') || (!after_dash && !after_cr && (IsWsp(c) || c == '\r'))) {
    if (IsWsp(c) && suffix_.size() >= kMaxPadding) {
      return Bad("transport padding after boundary longer than " + std::to_string(kMaxPadding) +
                 " bytes");
    }
    suffix_ += c;
    return Ok();
  }
  if ((after_dash && c == '-') || (after_cr && c == '\n')) {
    suffix_.clear();
    match_ = 0;
    if (in_part_) {
      in_part_ = false;
      if (callbacks_.on_part_end) PV_RETURN_IF_ERROR(callbacks_.on_part_end());
    }
    if (after_dash) {
      state_ = State::kEpilogue;
    } else if (parts_ >= limits_.max_parts) {
      return Bad("more than " + std::to_string(limits_.max_parts) + " parts");
    } else {
      state_ = State::kHeaders;
      header_.clear();
    }
    return Ok();
  }
  // Not a delimiter line: everything held since the delimiter began is data, except a
  // trailing CR, which may begin the next delimiter. `c` is looked at again as body.
  state_ = in_part_ ? State::kData : State::kPreamble;
  *reprocess = true;
  if (after_cr) suffix_.pop_back();
  match_ = 0;
  PV_RETURN_IF_ERROR(Emit(delimiter_.data(), delimiter_.size()));
  PV_RETURN_IF_ERROR(Emit(suffix_.data(), suffix_.size()));
  suffix_.clear();
  if (after_cr) match_ = 1;
  return Ok();
}

Status MultipartParser::StepHeaders(char c) {
  header_ += c;
  if (header_.size() > limits_.max_header_bytes) {
    return Bad("part headers longer than " + std::to_string(limits_.max_header_bytes) + " bytes");
  }
  const std::string_view h = header_;
  if (h == "\r\n" || (h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n")) {
    return BeginPart();
  }
  return Ok();
}

Status MultipartParser::BeginPart() {
  PV_ASSIGN_OR_RETURN(PartHeaders headers, ParseHeaderBlock(header_));
  header_.clear();
  ++parts_;
  state_ = State::kData;
  match_ = 0;
  if (callbacks_.on_part_begin) PV_RETURN_IF_ERROR(callbacks_.on_part_begin(headers));
  in_part_ = true;
  return Ok();
}

Status MultipartParser::Emit(const char* data, std::size_t size) {
  if (size == 0) return Ok();
  if (!in_part_) {
    preamble_ += static_cast<std::int64_t>(size);
    if (preamble_ > static_cast<std::int64_t>(limits_.max_preamble_bytes)) {
      return Bad("more than " + std::to_string(limits_.max_preamble_bytes) +
                 " bytes before the first boundary");
    }
    return Ok();
  }
  if (!callbacks_.on_part_data) return Ok();
  return callbacks_.on_part_data(std::as_bytes(std::span<const char>(data, size)));
}

}  // namespace pixvault::http
