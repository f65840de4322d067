#include "providers/http_body.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace pixvault::providers::http_body {

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

namespace {

Result<Piece> OpenFilePiece(const std::filesystem::path& path) {
  Piece piece;
  piece.path = path;
  piece.file = std::make_shared<Fd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (piece.file->fd < 0) {
    // Messages name the file, not the server's folders: they reach API clients.
    return Fail(ErrorCode::kInternal, "cannot open the file to send (" + path.filename().string() +
                                          "): " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(piece.file->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInternal,
                "cannot send " + path.filename().string() + ": not a regular file");
  }
  piece.size = st.st_size;
  return piece;
}

// A multipart parameter value: quotes and line breaks cannot be escaped portably, so they are
// replaced as browsers do.
std::string QuotedParam(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r' || c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string NewBoundary() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device rd;
  std::mt19937_64 gen((std::uint64_t{rd()} << 32) ^ rd() ^ counter.fetch_add(1));
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string b = "pixvault-";
  for (int i = 0; i < 32; ++i) b += kAlphabet[gen() % 36];
  return b;
}

}  // namespace

Result<Body> MakeBody(const HttpRequest& r) {
  const int given =
      int{r.body.has_value()} + int{r.body_file.has_value()} + int{r.multipart.has_value()};
  if (given > 1) return Fail(ErrorCode::kInvalidArgument, "an HTTP request has one body at most");
  Body body;
  if (r.body) {
    body.pieces.push_back(Piece{*r.body, nullptr, {}, 0});
    body.content_type = r.content_type;
  } else if (r.body_file) {
    PV_ASSIGN_OR_RETURN(Piece p, OpenFilePiece(*r.body_file));
    body.pieces.push_back(std::move(p));
    body.content_type = r.content_type;
  } else if (r.multipart) {
    const MultipartBody& m = *r.multipart;
    const std::string boundary = NewBoundary();
    std::string head;
    for (const auto& [name, value] : m.fields) {
      head += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + QuotedParam(name) +
              "\"\r\n\r\n" + value + "\r\n";
    }
    head += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" +
            QuotedParam(m.file_field) + "\"; filename=\"" + QuotedParam(m.filename) +
            "\"\r\nContent-Type: " + QuotedParam(m.content_type) + "\r\n\r\n";
    body.pieces.push_back(Piece{std::move(head), nullptr, {}, 0});
    PV_ASSIGN_OR_RETURN(Piece p, OpenFilePiece(m.path));
    body.pieces.push_back(std::move(p));
    body.pieces.push_back(Piece{"\r\n--" + boundary + "--\r\n", nullptr, {}, 0});
    body.content_type = "multipart/form-data; boundary=" + boundary;
  }
  for (const Piece& p : body.pieces) {
    body.length += p.file ? p.size : static_cast<std::int64_t>(p.text.size());
  }
  return body;
}

}  // namespace pixvault::providers::http_body
