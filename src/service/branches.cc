#include "service/branches.h"

#include <pixvault/branch_runtime.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

#include "media/keyframes.h"
#include "service/json_fields.h"

namespace pixvault::service {

boost::json::object BranchToJson(const Branch& b) {
  boost::json::object o;
  o["id"] = b.id;
  o["user_id"] = b.user_id;
  o["source_asset_id"] = b.source_asset_id;
  o["branch_time"] = b.branch_time;
  o["branch_frame"] = OrNull(b.branch_frame);
  o["keyframe_time"] = OrNull(b.keyframe_time);
  o["branch_name"] = b.branch_name;
  o["branch_description"] = OrNull(b.branch_description);
  o["branch_tag"] = OrNull(b.branch_tag);
  o["branch_type"] = ToString(b.branch_type);
  o["show_at"] = OrNull(b.show_at);
  o["hide_at"] = OrNull(b.hide_at);
  o["default_variant_id"] = OrNull(b.default_variant_id);
  o["game_metadata"] = Embedded(b.game_metadata);
  o["created_at"] = FormatTimestamp(b.created_at);
  o["updated_at"] = FormatTimestamp(b.updated_at);
  return o;
}

boost::json::object VariantToJson(const BranchVariant& v) {
  boost::json::object o;
  o["id"] = v.id;
  o["branch_id"] = v.branch_id;
  o["variant_asset_id"] = v.variant_asset_id;
  o["variant_name"] = v.variant_name;
  o["variant_tag"] = OrNull(v.variant_tag);
  o["weight"] = v.weight;
  o["conditions"] = Embedded(v.conditions, nullptr);
  o["effects"] = Embedded(v.effects, nullptr);
  o["created_at"] = FormatTimestamp(v.created_at);
  return o;
}

boost::json::object ClipToJson(const Clip& c) {
  boost::json::object o;
  o["id"] = c.id;
  o["user_id"] = c.user_id;
  o["source_asset_id"] = c.source_asset_id;
  o["start_time"] = c.start_time;
  o["end_time"] = c.end_time;
  o["clip_tag"] = c.clip_tag;
  o["clip_name"] = OrNull(c.clip_name);
  o["extracted_asset_id"] = OrNull(c.extracted_asset_id);
  o["playback_metadata"] = Embedded(c.playback_metadata);
  o["created_at"] = FormatTimestamp(c.created_at);
  return o;
}

boost::json::object StateVariableToJson(const StateVariable& v) {
  boost::json::object o;
  o["name"] = v.name;
  o["type"] = v.type;
  o["initial"] = v.initial_value ? Embedded(*v.initial_value, nullptr) : nullptr;
  o["created_at"] = FormatTimestamp(v.created_at);
  o["updated_at"] = FormatTimestamp(v.updated_at);
  return o;
}

Status CheckVariantRules(storage::Store& store, const Viewer& viewer, UserId owner,
                         std::string_view conditions, std::string_view effects) {
  PV_ASSIGN_OR_RETURN(auto vars, store.ListStateVariables(viewer, owner));
  // The declarations as the bundle's `state` array, so the runtime builds the schema exactly
  // as a game will.
  boost::json::array state;
  for (const StateVariable& v : vars) {
    boost::json::object d{{"name", v.name}, {"type", v.type}};
    if (v.initial_value) d["initial"] = Embedded(*v.initial_value, nullptr);
    state.push_back(std::move(d));
  }
  auto schema = branch::ParseStateSchema(boost::json::serialize(state));
  if (!schema) {
    return Fail(ErrorCode::kInternal, "stored state variables: " + schema.error().message);
  }
  auto condition = branch::CompileCondition(conditions, *schema);
  if (!condition) {
    return Fail(ErrorCode::kInvalidArgument, "conditions: " + condition.error().message);
  }
  if (effects != "null") {
    auto compiled = branch::CompileEffects(effects, *schema);
    if (!compiled) {
      return Fail(ErrorCode::kInvalidArgument, "effects: " + compiled.error().message);
    }
  }
  return Ok();
}

Status SnapBranchFrame(storage::Store& store, blob::BlobStore& blobs, const Viewer& viewer,
                       std::optional<std::int64_t> requested_frame, Branch& b) {
  PV_ASSIGN_OR_RETURN(Asset source, store.GetAsset(viewer, b.source_asset_id));
  if (requested_frame) {
    if (*requested_frame < 0) {
      return Fail(ErrorCode::kInvalidArgument, "branch_frame must be >= 0");
    }
    if (source.duration_sec && source.fps && *source.fps > 0) {
      const auto frames =
          static_cast<std::int64_t>(std::llround(*source.duration_sec * *source.fps));
      if (*requested_frame >= std::max<std::int64_t>(frames, 1)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "branch_frame " + std::to_string(*requested_frame) +
                        " is past the source's last frame (" + std::to_string(frames) + " frames)");
      }
    }
  }
  b.branch_frame = requested_frame;
  b.keyframe_time.reset();
  if (source.media_type != MediaType::kVideo || !source.sha256 ||
      source.sync_status != SyncStatus::kDownloaded) {
    return Ok();
  }
  double target = b.branch_time;
  if (requested_frame && source.fps && *source.fps > 0) {
    target = static_cast<double>(*requested_frame) / *source.fps;
  }
  auto keyframe = media::NearestKeyframe(blobs.PathFor(*source.sha256), target);
  if (!keyframe) return Ok();  // unreadable now (e.g. bytes evicted): keep what was asked
  b.keyframe_time = keyframe->time_sec;
  if (keyframe->frame) {
    b.branch_frame = *keyframe->frame;
  } else if (source.fps) {
    b.branch_frame = std::llround(keyframe->time_sec * *source.fps);
  }
  return Ok();
}

}  // namespace pixvault::service
