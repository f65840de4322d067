// Media analysis of stored assets (issue 6): named steps, each with a version, run by the
// durable job queue ("analyze" jobs) or directly. A step's outcome is recorded per asset
// (Store::PutAnalysis): `done` with what it measured, `failed` with a message (mirrored into
// the asset's analysis_errors), or `skipped` when the asset has no local bytes. A step whose
// recorded version is the current one is not run again unless forced, so a newer analyser
// re-runs only what changed.
//
// Steps (by media type):
//   probe      every type with local bytes: the media facts again, and for audio the
//              asset_audio_metadata row (sample_rate, channels, bitrate, codec).
//   thumbnail  images, videos, audio: a WebP thumbnail and preview in DerivedFiles
//              ("thumb-<size>.webp", "preview-<size>.webp"), for images and videos also the
//              perceptual hashes (pHash, dHash) that near-duplicate search uses.
//   audio      audio, and videos with an audio stream: loudness (EBU R128), tempo,
//              speech/music/silence; written to asset_audio_metadata (bpm, is_speech) with
//              the loudness figures in its `extra`.
//   model      3D models: triangle and vertex counts, materials, textures, animation,
//              rigging, world-space bounding box (media/model3d.h, parsed in a child process
//              with limits); written to asset_3d_metadata, parser and warnings in `extra`.
//   scenes     videos: shots (hard cuts and fades) with brightness, dominant colours and
//              camera motion (media/scenes.h), stored as "shot" temporal segments.
//
// Ownership: borrows the store, blob store, derived files and clock (all must outlive it).
// Thread-safety: one Analyzer may run any number of analyses at once; two analyses of the same
// asset at once both run and the last write of each step wins (each write is whole).
// Errors: Analyze fails with kNotFound for an unknown asset and kInvalidArgument for an unknown
// step name; a step's own failure is recorded, not returned, and reported in the outcome.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "blob/derived_files.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::media {
struct DerivativeOptions;
struct Derivatives;
struct RenderOptions;
}  // namespace pixvault::media

namespace pixvault::service {

class WorkerPool;

struct AnalyzerOptions {
  int thumbnail_size = 320;  // longest edge, pixels
  int preview_size = 1280;
  int webp_quality = 80;
  std::int64_t max_pixels = 268'402'689;  // pictures larger than this are refused
};

// What one analysis did, step by step.
struct AnalysisOutcome {
  AssetId asset_id = 0;
  struct Step {
    std::string name;
    std::string state;  // "done", "failed", "skipped" or "up-to-date"
    std::optional<std::string> error;
  };
  std::vector<Step> steps;
  bool failed() const;
  std::string ToJson() const;
};

// The renditions served by GET /assets/{id}/thumbnail and /preview.
enum class Rendition { kThumbnail, kPreview };

class Analyzer {
 public:
  Analyzer(storage::Store& store, blob::BlobStore& blobs, const blob::DerivedFiles& derived,
           const Clock& clock, AnalyzerOptions options = {});

  // Every step name, in the order they run.
  static const std::vector<std::string>& StepNames();
  // The current version of a step; 0 for an unknown name.
  static std::int64_t StepVersion(std::string_view step);
  // kInvalidArgument naming the first unknown step.
  static Status ValidateSteps(const std::vector<std::string>& steps);

  // Runs `steps` (every step that applies to the asset's type when empty) on the asset.
  // `cancelled` is checked between steps; when it turns true the remaining steps are left.
  Result<AnalysisOutcome> Analyze(AssetId id, const std::vector<std::string>& steps, bool force,
                                  const std::function<bool()>& cancelled = {});

  // The derived file name of a rendition at the configured size ("thumb-320.webp").
  std::string RenditionName(Rendition r) const;
  // The rendition's bytes for an asset the caller already may see: read from DerivedFiles, or
  // rendered now (and stored) when missing. kNotFound when the asset has no local bytes or its
  // type has no rendition (3D models); kCorrupt/kUnsupported from the renderer.
  Result<std::string> RenditionBytes(const Asset& asset, Rendition r);
  // The thumbnail of the shot whose keyframe is frame `keyframe` (a "shot" segment's
  // thumbnail_url), for an asset the caller may see: read from DerivedFiles, or rendered again
  // from the scene analysis's record when missing. kNotFound when the scene analysis recorded
  // no such shot or the asset has no local bytes; kCorrupt/kUnsupported from the renderer.
  Result<std::string> ShotThumbnailBytes(const Asset& asset, std::int64_t keyframe);

 private:
  struct StepContext;
  media::DerivativeOptions Renditions() const;
  media::RenderOptions ShotRenderOptions() const;
  std::string ShotThumbnailName(std::int64_t keyframe) const;  // "shot-48-320.webp"
  Status StoreRenditions(const std::string& sha256, const media::Derivatives& d);
  Result<std::string> RunProbe(StepContext& ctx);
  Result<std::string> RunThumbnail(StepContext& ctx);
  Result<std::string> RunAudio(StepContext& ctx);
  Result<std::string> RunModel(StepContext& ctx);
  Result<std::string> RunScenes(StepContext& ctx);
  // The asset's audio metadata row, or an empty one for it when there is none yet.
  Result<AssetAudioMetadata> AudioMetadataOf(AssetId id);

  storage::Store& store_;
  blob::BlobStore& blobs_;
  const blob::DerivedFiles& derived_;
  const Clock& clock_;
  AnalyzerOptions options_;
};

// The API path of a shot's keyframe thumbnail, stored as the segment's thumbnail_url.
std::string ShotThumbnailPath(AssetId asset, std::int64_t keyframe);

// --- Near duplicates ----------------------------------------------------------------------

struct NearDuplicate {
  AssetId asset_id = 0;
  int distance = 0;        // Hamming distance of the pHashes
  int dhash_distance = 0;  // of the dHashes, a second opinion
};

// The band keys (256 * band + value) of the near-duplicate index that every hash within
// `max_distance` bits of `phash` shares with it: by pigeonhole, a hash within 7 bits equals it
// in at least one of the eight 8-bit bands, and one within 15 bits is within 1 bit in at least
// one band (so the band values and their one-bit neighbours are looked up).
// kInvalidArgument for max_distance outside 0..15.
Result<std::vector<std::int64_t>> CandidateBandKeys(std::uint64_t phash, int max_distance);

struct NearDuplicateSearch {
  std::vector<NearDuplicate> items;
  // False when more assets shared an index band with the hash than were compared (the
  // `max_candidates` of lowest id were): a catalogue full of near-identical pictures.
  bool complete = true;
};

// Candidates compared at most per search: bounds the work of one request.
inline constexpr std::int64_t kMaxNearDuplicateCandidates = 20'000;

// Assets the viewer may see in lists whose pHash is within `max_distance` (0..15) of the
// asset's, nearest first (then by id), at most `limit`. kNotFound when the asset is not visible
// or has no hashes yet; kInvalidArgument for a distance out of range.
Result<NearDuplicateSearch> FindNearDuplicates(
    storage::Store& store, const Viewer& viewer, AssetId id, int max_distance, std::int64_t limit,
    std::int64_t max_candidates = kMaxNearDuplicateCandidates);

// --- The job queue --------------------------------------------------------------------------

inline constexpr std::string_view kAnalyzeJobKind = "analyze";

struct AnalyzeRequest {
  AssetId asset_id = 0;
  std::vector<std::string> steps;  // empty: every applicable step
  bool force = false;
  std::optional<UserId> requested_by;  // the job's user_id (who may see and cancel it)
  // Set for the job enqueued at ingest, so an asset is queued once however often its ingest
  // is retried.
  bool on_ingest = false;
};

// The analyze job of `request`. kInvalidArgument for unknown steps.
Result<Job> AnalysisJob(const AnalyzeRequest& request);
// Enqueues an analyze job. kInvalidArgument for unknown steps.
Result<Job> EnqueueAnalysis(storage::Store& store, const AnalyzeRequest& request);

// Installs the "analyze" handler on the pool: it runs Analyzer::Analyze and fails the job
// (not retried) when a step failed, with the steps' messages; store errors are retried.
void RegisterAnalysisJob(WorkerPool& pool, Analyzer& analyzer);

}  // namespace pixvault::service
