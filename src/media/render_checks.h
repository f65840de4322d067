// Checks of the sizes and quality asked of the renderers (thumbnail.h), shared by the files
// that implement them. Internal to the media module.
#pragma once

#include <string_view>

#include "core/error.h"

namespace pixvault::media {

// kInvalidArgument unless 16 <= size <= 16383 (the WebP limit); `what` names it in the message.
Status CheckSize(int size, std::string_view what);

// kInvalidArgument unless 1 <= quality <= 100.
Status CheckQuality(int quality);

}  // namespace pixvault::media
