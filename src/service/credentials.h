// Provider credentials at rest: sealed with XChaCha20-Poly1305 (libsodium's IETF AEAD) under a
// 32-byte secret key that lives outside the database, so a copy of the database (a backup, a
// shared PostgreSQL) reveals no provider credentials without the key.
//
// A sealed value is "pv1" || 24-byte random nonce || ciphertext and tag. Each value is bound to
// a context (the account it belongs to, as associated data): moved to another row, it no longer
// opens.
//
// The key comes from, in order: PIXVAULT_SECRET_KEY (64 hex digits), the file named by
// PIXVAULT_SECRET_KEY_FILE, or `<data dir>/secret.key`, created (mode 0600) with a new random
// key the first time. Several pixvault processes sharing one PostgreSQL database must share
// the key (set one of the variables on each).
//
// Thread-safety: a CredentialCipher is immutable after construction; Seal and Open may be
// called concurrently. The key never appears in a message.
#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace pixvault::service {

class CredentialCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  // From 64 hex digits (surrounding whitespace ignored). kInvalidArgument otherwise.
  [[nodiscard]] static Result<CredentialCipher> FromHex(std::string_view hex);
  // Reads a key file holding 64 hex digits. kNotFound when missing, kInvalidArgument when its
  // content is not a key, kUnavailable for other I/O errors.
  [[nodiscard]] static Result<CredentialCipher> FromFile(const std::filesystem::path& path);
  // FromFile, or when the file does not exist, creates it (exclusively, mode 0600) with a new
  // random key. Two processes racing to create it end up with the same key.
  [[nodiscard]] static Result<CredentialCipher> LoadOrCreate(const std::filesystem::path& path);

  // Seals `plaintext` bound to `context`. kUnavailable only when the system's random number
  // generator fails.
  [[nodiscard]] Result<std::string> Seal(std::string_view plaintext,
                                         std::string_view context) const;
  // The plaintext of a value sealed with this key for this context; kCorrupt otherwise (wrong
  // key, another context, altered or truncated bytes).
  [[nodiscard]] Result<std::string> Open(std::string_view sealed, std::string_view context) const;

  CredentialCipher(const CredentialCipher&) = default;
  CredentialCipher& operator=(const CredentialCipher&) = default;
  ~CredentialCipher();

 private:
  CredentialCipher() = default;
  std::array<unsigned char, kKeyBytes> key_{};
};

// The cipher for a process whose data folder is `data_dir`, from the sources listed above.
// `getenv` is injected so tests control the environment.
[[nodiscard]] Result<CredentialCipher> LoadCredentialCipher(
    const std::filesystem::path& data_dir, const std::function<const char*(const char*)>& getenv);

}  // namespace pixvault::service
