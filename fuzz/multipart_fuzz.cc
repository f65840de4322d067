// libFuzzer target for http::MultipartParser. Input: one control byte, then the body. The
// control byte's top two bits pick a boundary, the low six a chunking pattern. Besides
// crashes, leaks and undefined behaviour, it checks the parser's promises: the outcome does
// not depend on how the body is cut, data spans are non-empty and bounded, and the bytes
// the parser holds stay bounded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/multipart.h"

namespace {

using pixvault::Ok;
using pixvault::Status;
using pixvault::http::MultipartLimits;
using pixvault::http::MultipartParser;
using pixvault::http::PartHeaders;

constexpr std::string_view kBoundaries[] = {"XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a",
                                            "=?x y"};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "multipart_fuzz: violated: %s\n", what);
    std::abort();
  }
}

struct Part {
  std::string headers;
  std::string data;
  bool ended = false;
  bool operator==(const Part&) const = default;
};

struct Outcome {
  std::vector<Part> parts;
  std::string status;
  bool operator==(const Outcome&) const = default;
};

// Chunk sizes for `pattern`: 0 is one chunk, 1 is one byte at a time, others vary.
std::size_t NextChunk(unsigned pattern, std::uint32_t& state, std::size_t left) {
  if (pattern == 0) return left;
  if (pattern == 1) return 1;
  state = state * 1103515245u + 12345u;
  return std::min<std::size_t>(left, 1 + (state >> 16) % (pattern * 3));
}

Outcome Run(std::string_view body, std::string_view boundary, unsigned pattern) {
  MultipartLimits limits;
  limits.max_header_bytes = 512;
  limits.max_parts = 8;
  limits.max_preamble_bytes = 64;
  limits.max_epilogue_bytes = 64;
  Outcome out;
  std::size_t chunk = 0;
  MultipartParser::Callbacks cb;
  cb.on_part_begin = [&](const PartHeaders& h) -> Status {
    Check(!h.name.empty(), "part name is non-empty");
    out.parts.push_back(
        {h.name + "|" + h.filename.value_or("<none>") + "|" + h.content_type, "", false});
    return Ok();
  };
  cb.on_part_data = [&](std::span<const std::byte> d) -> Status {
    Check(!out.parts.empty() && !out.parts.back().ended, "data inside a part");
    Check(!d.empty() && d.size() <= std::max<std::size_t>(chunk, 140), "data span size");
    out.parts.back().data.append(reinterpret_cast<const char*>(d.data()), d.size());
    return Ok();
  };
  cb.on_part_end = [&]() -> Status {
    Check(!out.parts.empty() && !out.parts.back().ended, "end after begin");
    out.parts.back().ended = true;
    return Ok();
  };
  MultipartParser parser(std::string(boundary), limits, cb);
  std::uint32_t state = pattern;
  Status status = Ok();
  for (std::size_t pos = 0; status && pos < body.size(); pos += chunk) {
    chunk = NextChunk(pattern, state, body.size() - pos);
    status = parser.Feed(body.substr(pos, chunk));
    Check(parser.buffered_bytes() <= limits.max_header_bytes + 2 * 140, "bounded buffer");
  }
  if (status) status = parser.Finish();
  out.status = status ? "ok" : status.error().message;
  Check(status || status.error().code == pixvault::ErrorCode::kInvalidArgument, "error code");
  Check(!status || parser.done(), "ok only after the close delimiter");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)MultipartParser::BoundaryFromContentType(body);
  const std::string_view boundary = kBoundaries[data[0] >> 6];
  const unsigned pattern = data[0] & 0x3fu;
  const Outcome whole = Run(body, boundary, 0);
  if (pattern != 0) Check(Run(body, boundary, pattern) == whole, "same outcome for any chunking");
  return 0;
}
