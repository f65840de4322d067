// libFuzzer target for the keyset cursor decoder of SqlStore. Any input must either fail
// with kInvalidArgument or decode to a key that re-encodes and decodes to the same key.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "storage/sql_rows.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace internal = pixvault::storage::internal;
  const std::string_view cursor(reinterpret_cast<const char*>(data), size);
  const auto key = internal::DecodeCursor(cursor);
  if (!key) {
    if (key.error().code != pixvault::ErrorCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (key->second <= 0) std::abort();
  const auto again = internal::DecodeCursor(internal::EncodeCursor(key->first, key->second));
  if (!again || *again != *key) {
    std::fprintf(stderr, "cursor_fuzz: round trip changed the key\n");
    std::abort();
  }
  return 0;
}
