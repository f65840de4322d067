// UTF-8 validation and repair for text that crosses into JSON or the database (file names
// from the filesystem are arbitrary bytes).
#pragma once

#include <string>
#include <string_view>

namespace pixvault {

bool IsValidUtf8(std::string_view text);
// Replaces each invalid byte sequence with U+FFFD; valid input is returned unchanged.
std::string SanitizeUtf8(std::string_view text);

}  // namespace pixvault
