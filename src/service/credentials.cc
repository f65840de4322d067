#include "service/credentials.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pixvault::service {
namespace {

constexpr std::string_view kVersion = "pv1";
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == CredentialCipher::kKeyBytes);

Status EnsureSodium() {
  static const int rc = sodium_init();  // thread-safe, once
  if (rc < 0) return Fail(ErrorCode::kInternal, "libsodium could not be initialised");
  return Ok();
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

std::string ToHex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

}  // namespace

CredentialCipher::~CredentialCipher() { sodium_memzero(key_.data(), key_.size()); }

Result<CredentialCipher> CredentialCipher::FromHex(std::string_view hex) {
  PV_RETURN_IF_ERROR(EnsureSodium());
  hex = Trim(hex);
  CredentialCipher cipher;
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (hex.size() != 2 * kKeyBytes ||
      sodium_hex2bin(cipher.key_.data(), cipher.key_.size(), hex.data(), hex.size(), nullptr,
                     &decoded, &end) != 0 ||
      decoded != kKeyBytes || end != hex.data() + hex.size()) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "a secret key is 64 hexadecimal digits (32 bytes), e.g. from `openssl rand -hex 32`");
  }
  return cipher;
}

Result<CredentialCipher> CredentialCipher::FromFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                "cannot read the secret key file " + path.string() + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto cipher = FromHex(text.str());
  if (!cipher) {
    return Fail(ErrorCode::kInvalidArgument, "the secret key file " + path.string() +
                                                 " does not hold a key: " + cipher.error().message);
  }
  return cipher;
}

Result<CredentialCipher> CredentialCipher::LoadOrCreate(const std::filesystem::path& path) {
  auto existing = FromFile(path);
  if (existing || existing.error().code != ErrorCode::kNotFound) return existing;
  PV_RETURN_IF_ERROR(EnsureSodium());
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::array<unsigned char, kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  const std::string hex = ToHex(key.data(), key.size()) + "\n";
  sodium_memzero(key.data(), key.size());
  // Written under a temporary name and linked into place: a reader never sees half a key,
  // and of two processes creating it at once, the second finds the first one's key.
  const std::filesystem::path temp = path.string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(randombytes_random());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                "cannot create the secret key file " + path.string() + ": " + std::strerror(errno));
  }
  const bool written =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  const bool linked = written && ::link(temp.c_str(), path.c_str()) == 0;
  const int err = errno;
  ::unlink(temp.c_str());
  if (!linked && !(written && err == EEXIST)) {
    return Fail(ErrorCode::kUnavailable,
                "cannot create the secret key file " + path.string() + ": " + std::strerror(err));
  }
  return FromFile(path);
}

Result<std::string> CredentialCipher::Seal(std::string_view plaintext,
                                           std::string_view context) const {
  PV_RETURN_IF_ERROR(EnsureSodium());
  std::string out(kVersion.size() + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  std::memcpy(out.data(), kVersion.data(), kVersion.size());
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + kVersion.size());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &written, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(),
      nullptr, nonce, key_.data());
  out.resize(kVersion.size() + kNonceBytes + written);
  return out;
}

Result<std::string> CredentialCipher::Open(std::string_view sealed,
                                           std::string_view context) const {
  PV_RETURN_IF_ERROR(EnsureSodium());
  const auto unreadable = [] {
    return Fail(ErrorCode::kCorrupt,
                "the stored credentials cannot be decrypted: they were sealed with another secret "
                "key (PIXVAULT_SECRET_KEY / secret.key) or altered");
  };
  if (sealed.size() < kVersion.size() + kNonceBytes + kTagBytes ||
      sealed.substr(0, kVersion.size()) != kVersion) {
    return unreadable();
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data() + kVersion.size());
  const auto* cipher = nonce + kNonceBytes;
  const std::size_t cipher_size = sealed.size() - kVersion.size() - kNonceBytes;
  std::string out(cipher_size - kTagBytes, '\0');
  unsigned long long size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &size, nullptr, cipher, cipher_size,
          reinterpret_cast<const unsigned char*>(context.data()), context.size(), nonce,
          key_.data()) != 0) {
    return unreadable();
  }
  out.resize(size);
  return out;
}

Result<CredentialCipher> LoadCredentialCipher(
    const std::filesystem::path& data_dir, const std::function<const char*(const char*)>& getenv) {
  if (const char* hex = getenv("PIXVAULT_SECRET_KEY"); hex != nullptr && *hex != '\0') {
    auto cipher = CredentialCipher::FromHex(hex);
    if (!cipher) return Fail(WithContext(cipher.error(), "PIXVAULT_SECRET_KEY"));
    return cipher;
  }
  if (const char* file = getenv("PIXVAULT_SECRET_KEY_FILE"); file != nullptr && *file != '\0') {
    return CredentialCipher::FromFile(file);  // named explicitly: never created
  }
  return CredentialCipher::LoadOrCreate(data_dir / "secret.key");
}

}  // namespace pixvault::service
