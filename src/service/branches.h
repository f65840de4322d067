// Branch points, variants, clips and game state variables: their JSON shapes, and the checks
// of variant conditions and effects against the owner's declared state variables (with the
// same compiler the game runtime uses, include/pixvault/branch_runtime.hpp, so whatever is
// saved here loads in a game).
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "blob/blob_store.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

boost::json::object BranchToJson(const Branch& b);
boost::json::object VariantToJson(const BranchVariant& v);
boost::json::object ClipToJson(const Clip& c);
boost::json::object StateVariableToJson(const StateVariable& v);

// Checks a variant's `conditions` and `effects` (JSON texts; "null" means none) against the
// state variables `owner` declared. kInvalidArgument naming the field and the problem (not
// JSON, unknown operator, undeclared variable, a literal of the wrong type, ...).
Status CheckVariantRules(storage::Store& store, const Viewer& viewer, UserId owner,
                         std::string_view conditions, std::string_view effects);

// Snaps `b.branch_frame` to the source's keyframe nearest to the requested frame
// (`requested_frame`, at the source's fps) or, without one, to `b.branch_time`, and sets
// `b.keyframe_time` to that keyframe's time. The keyframe is found from packet flags of the
// source's local bytes (media::NearestKeyframe). When the source is not a video with local
// bytes, or its keyframes cannot be read, branch_frame is the requested frame and
// keyframe_time is unset. kInvalidArgument for a requested frame below 0 or at or past the
// source's frame count (duration x fps, when known); kNotFound for a source the viewer
// cannot see.
Status SnapBranchFrame(storage::Store& store, blob::BlobStore& blobs, const Viewer& viewer,
                       std::optional<std::int64_t> requested_frame, Branch& b);

}  // namespace pixvault::service
