// Internal to HttpClient (http_client*.cc): a request body as pieces (bytes in memory and
// whole open files) with its Content-Length computed up front, so that it can be streamed in
// chunks and sent again from the start. Not an API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "providers/http_client.h"

namespace pixvault::providers::http_body {

// A file descriptor closed on destruction.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
};

// One piece of a request body: bytes in memory, or the whole of an open file.
struct Piece {
  std::string text;
  std::shared_ptr<Fd> file;
  std::filesystem::path path;
  std::int64_t size = 0;  // of the file
};

struct Body {
  std::vector<Piece> pieces;
  std::string content_type;  // empty: none
  std::int64_t length = 0;
};

// The body of `r`: kInvalidArgument for more than one body, kInternal when a file cannot be
// opened. Files are opened (and sized) here, read later with pread.
Result<Body> MakeBody(const HttpRequest& r);

}  // namespace pixvault::providers::http_body
