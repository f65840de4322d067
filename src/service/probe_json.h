// The media facts of a probe as the JSON object stored in assets.media_metadata (by ingest)
// and in the analysis' probe record. Internal to src/service.
#pragma once

#include <boost/json/object.hpp>

#include "media/probe.h"

namespace pixvault::service {

// Members for what the probe found; absent facts are left out, never written as null.
boost::json::object ProbeFactsJson(const media::ProbeResult& probe);

}  // namespace pixvault::service
