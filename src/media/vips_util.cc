#include "media/vips_util.h"

#include <mutex>
#include <string>

namespace pixvault::media {

Status EnsureVipsInitialised() {
  static std::once_flag once;
  static std::string init_error;  // written once, inside call_once, read-only afterwards
  std::call_once(once, [] {
    if (VIPS_INIT("pixvault") != 0) {
      init_error = VipsError(ErrorCode::kInternal, "cannot initialise libvips").message;
      return;
    }
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
  });
  if (!init_error.empty()) return Fail(ErrorCode::kInternal, init_error);
  return Ok();
}

Error VipsError(ErrorCode code, std::string_view what) {
  std::string message(what);
  if (char* pending = vips_error_buffer_copy(); pending != nullptr) {
    std::string text(pending);
    g_free(pending);
    // "unable to open for read\nunix error: No such file or directory\n" -> one line.
    for (char& c : text) {
      if (c == '\n') c = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (!text.empty()) message += ": " + text;
  }
  return Error{code, std::move(message)};
}

}  // namespace pixvault::media
