// The closed vocabularies of the domain, each with its stable wire name.
//
// `ToString(e)` gives the snake_case name used in JSON, SQL rows and the CLI;
// `Parse<E>(text)` is its inverse and fails with kInvalidArgument listing the valid names.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace pixvault {

enum class MediaType { kVideo, kImage, kAudio, kModel3d };
enum class ContentDomain { kGeneral, kAdult, kMedical, kSports, kFashion, kEducation };
enum class ContentRating { kGeneral, kMature, kAdult, kExplicit };
enum class UploadMethod { kExtension, kApi, kWeb, kMobile, kCli, kProvider };
// State of the local copy of an asset's bytes.
enum class SyncStatus { kRemote, kDownloading, kDownloaded, kError };
enum class OperationType {
  kTextToVideo,
  kImageToVideo,
  kVideoExtend,
  kVideoTransition,
  kFusion,
  kTextToImage,
  kImageToImage,
  kTextToAudio,
  kTextTo3d,
  kImageTo3d,
  kUpscale,
  kClipExtract,
  kFrameExtract,
  kConcat,
  kLoopExtract,
  kUpload,
};
enum class BranchType { kManual, kAutomatic, kConditional, kRandom };
enum class JobStatus { kQueued, kRunning, kSucceeded, kFailed, kDead, kCancelled };
enum class UploadStatus { kPending, kUploaded, kFailed, kExpired };
enum class AnalysisStatus { kDone, kFailed, kSkipped };

template <class E>
struct EnumNames;  // specialised below: static constexpr std::array<std::pair<E, string_view>>

#define PV_ENUM_NAMES(E, display, ...)                                                            \
  template <>                                                                                     \
  struct EnumNames<E> {                                                                           \
    static constexpr std::string_view kTypeName = display;                                        \
    static constexpr auto kValues = std::to_array<std::pair<E, std::string_view>>({__VA_ARGS__}); \
  }

PV_ENUM_NAMES(MediaType, "media type", {MediaType::kVideo, "video"}, {MediaType::kImage, "image"},
              {MediaType::kAudio, "audio"}, {MediaType::kModel3d, "3d_model"});
PV_ENUM_NAMES(ContentDomain, "content domain", {ContentDomain::kGeneral, "general"},
              {ContentDomain::kAdult, "adult"}, {ContentDomain::kMedical, "medical"},
              {ContentDomain::kSports, "sports"}, {ContentDomain::kFashion, "fashion"},
              {ContentDomain::kEducation, "education"});
PV_ENUM_NAMES(ContentRating, "content rating", {ContentRating::kGeneral, "general"},
              {ContentRating::kMature, "mature"}, {ContentRating::kAdult, "adult"},
              {ContentRating::kExplicit, "explicit"});
PV_ENUM_NAMES(UploadMethod, "upload method", {UploadMethod::kExtension, "extension"},
              {UploadMethod::kApi, "api"}, {UploadMethod::kWeb, "web"},
              {UploadMethod::kMobile, "mobile"}, {UploadMethod::kCli, "cli"},
              {UploadMethod::kProvider, "provider"});
PV_ENUM_NAMES(SyncStatus, "sync status", {SyncStatus::kRemote, "remote"},
              {SyncStatus::kDownloading, "downloading"}, {SyncStatus::kDownloaded, "downloaded"},
              {SyncStatus::kError, "error"});
PV_ENUM_NAMES(OperationType, "operation type", {OperationType::kTextToVideo, "text_to_video"},
              {OperationType::kImageToVideo, "image_to_video"},
              {OperationType::kVideoExtend, "video_extend"},
              {OperationType::kVideoTransition, "video_transition"},
              {OperationType::kFusion, "fusion"}, {OperationType::kTextToImage, "text_to_image"},
              {OperationType::kImageToImage, "image_to_image"},
              {OperationType::kTextToAudio, "text_to_audio"},
              {OperationType::kTextTo3d, "text_to_3d"}, {OperationType::kImageTo3d, "image_to_3d"},
              {OperationType::kUpscale, "upscale"}, {OperationType::kClipExtract, "clip_extract"},
              {OperationType::kFrameExtract, "frame_extract"}, {OperationType::kConcat, "concat"},
              {OperationType::kLoopExtract, "loop_extract"}, {OperationType::kUpload, "upload"});
PV_ENUM_NAMES(BranchType, "branch type", {BranchType::kManual, "manual"},
              {BranchType::kAutomatic, "automatic"}, {BranchType::kConditional, "conditional"},
              {BranchType::kRandom, "random"});
PV_ENUM_NAMES(JobStatus, "job status", {JobStatus::kQueued, "queued"},
              {JobStatus::kRunning, "running"}, {JobStatus::kSucceeded, "succeeded"},
              {JobStatus::kFailed, "failed"}, {JobStatus::kDead, "dead"},
              {JobStatus::kCancelled, "cancelled"});
PV_ENUM_NAMES(UploadStatus, "upload status", {UploadStatus::kPending, "pending"},
              {UploadStatus::kUploaded, "uploaded"}, {UploadStatus::kFailed, "failed"},
              {UploadStatus::kExpired, "expired"});
PV_ENUM_NAMES(AnalysisStatus, "analysis status", {AnalysisStatus::kDone, "done"},
              {AnalysisStatus::kFailed, "failed"}, {AnalysisStatus::kSkipped, "skipped"});
#undef PV_ENUM_NAMES

template <class E>
constexpr std::string_view ToString(E value) {
  for (const auto& [v, name] : EnumNames<E>::kValues) {
    if (v == value) return name;
  }
  return "unknown";
}

// "one of: video, image, audio, 3d_model".
template <class E>
std::string EnumChoices() {
  std::string out;
  for (const auto& [v, name] : EnumNames<E>::kValues) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <class E>
Result<E> Parse(std::string_view text) {
  for (const auto& [v, name] : EnumNames<E>::kValues) {
    if (name == text) return v;
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown " + std::string(EnumNames<E>::kTypeName) +
                                               " '" + std::string(text) +
                                               "' (one of: " + EnumChoices<E>() + ")");
}

// Parses `text` into `out` when present; leaves `out` alone when `text` is absent.
template <class E>
Status ParseOptional(const std::optional<std::string>& text, std::optional<E>& out) {
  if (!text) return Ok();
  PV_ASSIGN_OR_RETURN(out, Parse<E>(*text));
  return Ok();
}

}  // namespace pixvault
