#include "media/vips_util.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <string>

namespace pixvault::media {
namespace {

// libvips loaders (nicknames) accepted for untrusted uploads.
constexpr auto kImageLoaders = std::to_array<std::string_view>(
    {"pngload_source", "jpegload_source", "gifload_source", "webpload_source", "tiffload_source",
     "heifload_source", "jxlload_source"});

}  // namespace

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

Result<std::string> FindImageLoader(VipsSource* source) {
  const char* loader_class = vips_foreign_find_load_source(source);
  if (loader_class == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "not a readable image"));
  const char* nickname = vips_nickname_find(g_type_from_name(loader_class));
  std::string loader = nickname != nullptr ? nickname : loader_class;
  if (std::find(kImageLoaders.begin(), kImageLoaders.end(), loader) == kImageLoaders.end()) {
    vips_error_clear();
    return Fail(ErrorCode::kUnsupported,
                "image format '" + loader + "' is not a supported media type");
  }
  return loader;
}

}  // namespace pixvault::media
