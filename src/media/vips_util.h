// libvips plumbing shared by the media module: one-time setup, RAII owners for GObjects, and
// conversion of vips' error buffer into `Error`s. Internal to src/media.
//
// Thread-safety: every function here may be called from any thread. libvips keeps one
// process-wide error buffer, so a message may occasionally include another thread's error.
#pragma once

#include <vips/vips.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace pixvault::media {

// Initialises libvips once per process (VIPS_INIT), disables its operation cache (every
// file is opened once; cached operations would keep file handles and memory alive) and blocks
// loaders libvips marks as unsafe for untrusted input. Later calls return the first outcome.
// Errors: kInternal when libvips cannot start.
[[nodiscard]] Status EnsureVipsInitialised();

// An Error with `code` whose message is `what` followed by vips' pending error text, which is
// cleared.
[[nodiscard]] Error VipsError(ErrorCode code, std::string_view what);

// The libvips loader (nickname, e.g. "jpegload_source") that would read `source`, which must be
// one accepted for untrusted uploads (PNG, JPEG, GIF, WebP, TIFF, HEIF, JXL). Reads only the
// head of the source. Errors: kCorrupt when no loader recognises it, kUnsupported when the
// loader is not on the list.
[[nodiscard]] Result<std::string> FindImageLoader(VipsSource* source);

struct GObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;
using VipsSourcePtr = std::unique_ptr<VipsSource, GObjectUnref>;

}  // namespace pixvault::media
