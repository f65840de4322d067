// MultipartParser: a streaming, push-style `multipart/form-data` parser (RFC 7578 on top of
// RFC 2046) for uploads of any size. The caller pushes the request body in chunks of any size
// (one byte at a time works) and receives each part as begin / data... / end callbacks. Memory
// is bounded regardless of part size: besides one part's header block (at most
// `max_header_bytes`), the parser holds at most a few dozen bytes of transport padding; a
// partially matched delimiter is remembered by its length only, never copied.
//
// Wire rules, decided here once:
//   - The delimiter is CRLF "--" boundary; the first one may start the body without the CRLF.
//     It must be followed by optional transport padding (SP/HTAB, at most 64 bytes) and CRLF,
//     or by "--" (the close delimiter). Bytes that look like a delimiter but are followed by
//     anything else are part data (or preamble), delivered unchanged.
//   - Lines end with CRLF; a bare LF is not a line end. Header folding is rejected.
//   - The preamble (before the first delimiter) and the epilogue (after the close delimiter)
//     are ignored as RFC 2046 requires, up to `max_preamble_bytes` / `max_epilogue_bytes`.
//   - A body with no part ("--boundary--") is valid; the caller decides whether it is useful.
//   - Each part needs `Content-Disposition: form-data` with a non-empty `name`. `filename`
//     is optional; `filename*=UTF-8''...` (RFC 5987) is decoded and wins over `filename`.
//     In quoted strings `\"` and `\\` are escapes; any other backslash is kept (browsers send
//     `a\b.txt` unescaped). Names and filenames are returned as sent: the caller must
//     sanitise filenames before using them as paths. Content-Transfer-Encoding is ignored.
//   - Several parts may share a name, and several may carry files; the caller decides.
//
// Ownership: the parser owns copies of the boundary and the callbacks. Spans passed to
// `on_part_data` borrow either the fed chunk or the parser's constant delimiter and are
// valid only during the call; each is non-empty and at most max(fed chunk size, boundary
// size + 70) bytes long. PartHeaders is valid only during `on_part_begin`.
//
// Thread-safety: none; one parser per request, used from one thread at a time. Callbacks run
// on the thread calling Feed/Finish and must not call back into the parser.
//
// Errors: every parse error is kInvalidArgument with a message starting "multipart: ". A
// callback's error aborts parsing and is returned unchanged. Errors are sticky: after one,
// Feed and Finish return it again without calling any callback. `on_part_end` is not called
// for a part cut short by an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace pixvault::http {

struct MultipartLimits {
  std::size_t max_header_bytes = 8 * 1024;  // one part's header block, CRLFs included
  std::size_t max_parts = 64;
  std::size_t max_preamble_bytes = 1024;
  std::size_t max_epilogue_bytes = 1024;
};

struct PartHeaders {
  std::string name;                     // Content-Disposition `name`, never empty
  std::optional<std::string> filename;  // present (maybe empty) when the part is a file
  std::string content_type;             // as sent, trimmed; "text/plain" when absent
  // Every header line in order, names as sent, values trimmed.
  std::vector<std::pair<std::string, std::string>> raw;

  // First value of header `name` (case-insensitive), if any.
  std::optional<std::string_view> Find(std::string_view header_name) const;
};

class MultipartParser {
 public:
  struct Callbacks {
    // Empty functions are no-ops.
    std::function<Status(const PartHeaders&)> on_part_begin;
    std::function<Status(std::span<const std::byte>)> on_part_data;
    std::function<Status()> on_part_end;
  };

  // Extracts the boundary from a Content-Type header value such as
  // `multipart/form-data; boundary="abc"` (media type and parameter names are
  // case-insensitive, the value may be a token or a quoted string). kInvalidArgument when the
  // media type is not multipart/form-data, or the boundary is absent, duplicated, or invalid.
  static Result<std::string> BoundaryFromContentType(std::string_view content_type);

  // kInvalidArgument unless `boundary` is 1-70 RFC 2046 bchars not ending with a space.
  static Status ValidateBoundary(std::string_view boundary);

  // An invalid boundary is not reported here: Feed and Finish then fail with kInvalidArgument.
  MultipartParser(std::string boundary, MultipartLimits limits, Callbacks callbacks);

  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Consumes the next chunk of the body; an empty chunk is a no-op. Returns the first error
  // (see above). Bytes after the close delimiter are counted against the epilogue limit.
  [[nodiscard]] Status Feed(std::span<const std::byte> chunk);
  [[nodiscard]] Status Feed(std::string_view chunk) {
    return Feed(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())));
  }

  // Declares the end of the body. kInvalidArgument unless the close delimiter was seen (no
  // delimiter at all: wrong boundary or not multipart; otherwise a truncated body).
  [[nodiscard]] Status Finish();

  // True once the close delimiter was seen.
  bool done() const { return state_ == State::kEpilogue; }
  // Parts begun so far.
  std::size_t parts() const { return parts_; }
  // Bytes received but not yet delivered or discarded: a header block being collected, a
  // partial delimiter match and transport padding. Bounded by max_header_bytes + ~140.
  std::size_t buffered_bytes() const { return header_.size() + match_ + suffix_.size(); }

 private:
  enum class State { kPreamble, kData, kSuffix, kHeaders, kEpilogue };

  Status Step(std::span<const std::byte> chunk);
  // Scans preamble or part data from `*pos` until a full delimiter is matched (then state_
  // becomes kSuffix) or the chunk ends.
  Status ScanBody(const char* data, std::size_t size, std::size_t* pos);
  // Handles one byte following a full delimiter.
  Status StepSuffix(char c, bool* reprocess);
  Status StepHeaders(char c);
  // Delivers bytes of the preamble (discarded) or of the current part.
  Status Emit(const char* data, std::size_t size);
  Status BeginPart();
  Status Abort(Error error);

  std::string delimiter_;  // CRLF "--" boundary
  MultipartLimits limits_;
  Callbacks callbacks_;
  State state_ = State::kPreamble;
  bool in_part_ = false;   // a part's on_part_begin succeeded and its end is pending
  std::size_t match_ = 2;  // delimiter bytes matched; the body starts after a virtual CRLF
  std::string suffix_;     // bytes after a full delimiter match: "-" or padding [CR]
  std::string header_;     // the current part's header block
  std::size_t parts_ = 0;
  std::int64_t preamble_ = -2;  // discarded preamble bytes; -2 for the virtual CRLF
  std::size_t epilogue_ = 0;
  bool finished_ = false;
  std::optional<Error> error_;
};

}  // namespace pixvault::http
