// Domain entities of pixvault: plain structs, no I/O.
//
// Ids are 64-bit database ids (> 0). JSON-valued fields hold validated JSON text
// (`"{}"`, `"[]"`); they are parsed by the codecs in service/, never by the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/enums.h"

namespace pixvault {

using UserId = std::int64_t;
using AssetId = std::int64_t;
using JobId = std::int64_t;

struct User {
  UserId id = 0;
  std::string name;
  bool is_admin = false;
  bool allow_adult = false;
  Timestamp created_at = 0;
};

// A user's key for the HTTP API. Never holds the plaintext key: that is shown once, when
// the key is issued, and the store keeps only its SHA-256 (`key_hash`, lowercase hex) and
// its first characters (`prefix`), which listings show so users can tell keys apart.
struct ApiKey {
  std::int64_t id = 0;
  UserId user_id = 0;
  std::string label;
  std::string prefix;
  std::string key_hash;
  Timestamp created_at = 0;
  std::optional<Timestamp> last_used_at;
  std::optional<Timestamp> revoked_at;  // set once; a revoked key authenticates nobody
};

// Who is asking. Every store read of user-owned rows is filtered by it.
struct Viewer {
  UserId user_id = 0;
  bool is_admin = false;
  bool allow_adult = false;
  static Viewer For(const User& u) { return {u.id, u.is_admin, u.allow_adult}; }
};

// Bytes, stored once globally under their sha256 (lowercase hex).
struct Blob {
  std::string sha256;
  std::int64_t size_bytes = 0;
  std::int64_t refcount = 0;
  std::string location;  // blob store name, "local" for the filesystem store
  Timestamp created_at = 0;
};

// A float vector and the model that produced it.
struct Embedding {
  std::string model;
  std::vector<float> values;
  bool operator==(const Embedding&) const = default;
};

struct Asset {
  AssetId id = 0;
  UserId user_id = 0;
  MediaType media_type = MediaType::kImage;

  // Origin.
  std::string provider_id = "user_upload";
  std::optional<std::string> provider_asset_id;
  std::optional<std::int64_t> provider_account_id;
  // When the origin provider first answered that it no longer has provider_asset_id (cleared
  // when it has it again), and when a later answer confirmed it: from then on the origin ref
  // is not a copy of the bytes (storage::Store::ReportOriginMissing).
  std::optional<Timestamp> origin_missing_since;
  std::optional<Timestamp> origin_lost_at;
  std::optional<std::string> remote_url;
  std::optional<std::string> original_source_url;
  std::optional<std::string> original_filename;
  UploadMethod upload_method = UploadMethod::kApi;

  // Local copy.
  SyncStatus sync_status = SyncStatus::kDownloaded;
  std::optional<std::string> sha256;  // null while only remote
  std::optional<std::int64_t> file_size_bytes;
  std::optional<std::string> mime_type;

  // Basic media facts.
  std::optional<std::int64_t> width;
  std::optional<std::int64_t> height;
  std::optional<double> duration_sec;
  std::optional<double> fps;

  // Description and classification.
  std::optional<std::string> description;
  std::vector<std::string> tags;
  std::vector<std::string> style_tags;
  std::optional<Embedding> embedding;
  ContentDomain content_domain = ContentDomain::kGeneral;
  std::optional<std::string> content_category;
  std::string content_taxonomy = "{}";  // JSON object
  ContentRating content_rating = ContentRating::kGeneral;
  bool age_restricted = false;
  bool searchable = true;
  std::string media_metadata = "{}";  // JSON object: codecs, container, overflow
  // JSON object: analysis step -> message of its last failure (maintained by the store from
  // asset_analysis; empty when every step succeeded or none ran).
  std::string analysis_errors = "{}";

  Timestamp created_at = 0;
  Timestamp updated_at = 0;
  std::optional<Timestamp> last_accessed_at;
  // Pinned (POST /assets/{id}/pin): its bytes are never evicted from the local cache. Read
  // from asset_pins; CreateAsset and UpdateAsset ignore it.
  bool pinned = false;
};

// An asset whose bytes the local cache keeps (never evicted while pinned).
struct AssetPin {
  AssetId asset_id = 0;
  std::optional<UserId> pinned_by;
  std::optional<Timestamp> pinned_at;  // unset: not pinned
};

// Fields a client may change after creation; unset fields are left alone.
struct AssetPatch {
  std::optional<std::optional<std::string>> description;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<std::string>> style_tags;
  std::optional<ContentDomain> content_domain;
  std::optional<std::optional<std::string>> content_category;
  std::optional<std::string> content_taxonomy;
  std::optional<ContentRating> content_rating;
  std::optional<bool> age_restricted;
  std::optional<bool> searchable;
  std::optional<std::string> media_metadata;
  std::optional<std::optional<Embedding>> embedding;
  std::optional<SyncStatus> sync_status;
};

struct Asset3dMetadata {
  AssetId asset_id = 0;
  std::optional<std::int64_t> polygon_count;
  std::optional<std::int64_t> vertex_count;
  std::optional<std::string> file_format;
  bool has_textures = false;
  bool has_animations = false;
  bool has_rigging = false;
  bool has_materials = false;
  std::optional<std::int64_t> material_count;
  std::optional<std::string> texture_resolution;
  std::string bounding_box_size = "null";  // JSON
  std::string extra = "{}";                // JSON
};

struct AssetAudioMetadata {
  AssetId asset_id = 0;
  std::optional<std::int64_t> sample_rate;
  std::optional<std::int64_t> channels;
  std::optional<std::int64_t> bitrate;
  std::optional<std::string> codec;
  std::optional<double> bpm;
  std::optional<std::string> key;
  std::optional<bool> has_lyrics;
  std::optional<bool> is_speech;
  std::optional<std::string> language;
  std::optional<std::string> voice_id;
  std::string extra = "{}";
};

struct AssetAdultMetadata {
  AssetId asset_id = 0;
  std::optional<std::string> intensity_level;  // warmup, moderate, heated, intense
  std::optional<std::string> tempo;            // slow, medium, fast, varied
  std::optional<std::string> scene_type;
  std::optional<std::string> intimacy_level;
  std::string body_parts_visible = "[]";  // JSON array
  std::optional<std::string> clothing_state;
  std::string positions = "[]";  // JSON array
  std::optional<std::string> mood;
  std::optional<std::string> lighting;
};

struct TemporalSegment {
  std::int64_t id = 0;
  AssetId asset_id = 0;
  std::string segment_type;  // shot, keyframe, scene, action, ...
  double timestamp_sec = 0;
  std::optional<double> end_sec;
  std::optional<std::int64_t> frame_number;
  std::optional<std::string> thumbnail_url;
  std::optional<std::string> description;
  std::string objects = "[]";  // JSON array
  std::string actions = "[]";  // JSON array
  std::optional<Embedding> embedding;
  std::optional<double> brightness;
  std::string dominant_colors = "[]";  // JSON array
  std::optional<std::string> camera_motion;
  Timestamp created_at = 0;
};

struct LineageEdge {
  std::int64_t id = 0;
  AssetId child_asset_id = 0;
  AssetId parent_asset_id = 0;
  std::string parent_role = "source";
  std::optional<OperationType> operation_type;
  std::optional<JobId> operation_job_id;
  std::optional<double> parent_start_time;
  std::optional<double> parent_end_time;
  std::optional<std::int64_t> parent_frame;
  std::string transformation = "{}";  // JSON
  std::int64_t sequence_order = 0;
  Timestamp created_at = 0;
  // Set by lineage walks: distance from the start asset (1 = direct edge).
  std::int64_t depth = 0;
};

enum class LineageDirection { kAncestors, kDescendants };

struct Branch {
  std::int64_t id = 0;
  UserId user_id = 0;
  AssetId source_asset_id = 0;
  double branch_time = 0;
  std::optional<std::int64_t> branch_frame;
  std::string branch_name;
  std::optional<std::string> branch_description;
  std::optional<std::string> branch_tag;
  BranchType branch_type = BranchType::kManual;
  std::string game_metadata = "{}";  // JSON
  // The choice is offered from show_at to hide_at (seconds into the source, both <=
  // branch_time); unset means from the start of the source until branch_time.
  std::optional<double> show_at;
  std::optional<double> hide_at;
  // Taken when nobody chooses in time; one of this branch point's variants.
  std::optional<std::int64_t> default_variant_id;
  // The source's keyframe branch_frame was snapped to (seconds); unset when the source has
  // no local video to read keyframes from.
  std::optional<double> keyframe_time;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

// A typed variable of a user's game state, named by variant conditions and effects.
struct StateVariable {
  std::int64_t id = 0;
  UserId user_id = 0;
  std::string name;
  std::string type;                          // "bool", "int" or "string"
  std::optional<std::string> initial_value;  // a JSON literal of that type; unset when absent
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

struct BranchVariant {
  std::int64_t id = 0;
  std::int64_t branch_id = 0;
  AssetId variant_asset_id = 0;
  std::string variant_name;
  std::optional<std::string> variant_tag;
  double weight = 1.0;
  std::string conditions = "null";  // JSON expression
  std::string effects = "null";     // JSON
  Timestamp created_at = 0;
};

struct Clip {
  std::int64_t id = 0;
  UserId user_id = 0;
  AssetId source_asset_id = 0;
  double start_time = 0;
  double end_time = 0;
  std::string clip_tag;
  std::optional<std::string> clip_name;
  std::optional<AssetId> extracted_asset_id;
  std::string playback_metadata = "{}";  // JSON
  Timestamp created_at = 0;
};

struct ProviderAccount {
  std::int64_t id = 0;
  UserId user_id = 0;
  std::string provider_id;
  std::string label;
  std::string credentials_encrypted;  // opaque bytes; never logged or returned
  std::string settings = "{}";        // JSON
  bool enabled = true;
  Timestamp created_at = 0;
};

// The id under which an asset was uploaded to a provider account.
struct ProviderUpload {
  std::int64_t id = 0;
  AssetId asset_id = 0;
  std::string provider_id;
  std::int64_t account_id = 0;
  std::optional<std::string> provider_ref;
  std::optional<std::string> provider_url;
  UploadStatus status = UploadStatus::kPending;
  std::optional<Timestamp> uploaded_at;
  std::optional<Timestamp> expires_at;
  std::optional<std::string> last_error;
  std::optional<std::string> last_error_code;  // ErrorCodeName of the last failure
  std::int64_t attempts = 0;
  Timestamp updated_at = 0;
  // Who is working on the row (a resolver's process/thread name) and until when; set while
  // an upload is in progress, empty otherwise.
  std::optional<std::string> lease_owner;
  std::optional<Timestamp> lease_expires_at;
};

// One try at a step of resolving an asset for a provider account: the download of its bytes
// from a provider, its upload, or a check that a cached ref is still known.
struct ProviderAttempt {
  std::int64_t id = 0;
  AssetId asset_id = 0;
  std::string provider_id;
  std::int64_t account_id = 0;
  std::string operation;  // download | upload | check
  bool succeeded = false;
  std::optional<std::string> error_code;
  std::optional<std::string> error;
  std::int64_t bytes = 0;
  std::string worker;
  Timestamp started_at = 0;
  Timestamp finished_at = 0;
};

// The outcome of one analysis step for one asset (table asset_analysis). A step re-runs when
// the analyser's version of it is newer than `version`.
struct AnalysisRecord {
  AssetId asset_id = 0;
  std::string step;  // "probe", "thumbnail", "audio", ...
  std::int64_t version = 1;
  AnalysisStatus status = AnalysisStatus::kDone;
  std::optional<std::string> error;  // set when failed or skipped
  std::string result = "{}";         // JSON object: what the step measured
  Timestamp updated_at = 0;
};

// Perceptual hashes of an asset's picture (its poster frame for videos), 64 bits each.
struct PerceptualHash {
  AssetId asset_id = 0;
  std::uint64_t phash = 0;
  std::uint64_t dhash = 0;
};

struct Job {
  JobId id = 0;
  std::string kind;
  std::optional<UserId> user_id;
  std::optional<std::string> idempotency_key;
  JobStatus status = JobStatus::kQueued;
  std::int64_t priority = 0;
  std::string payload = "{}";   // JSON
  std::string result = "null";  // JSON
  std::int64_t attempts = 0;
  std::int64_t max_attempts = 5;
  Timestamp run_after = 0;
  std::optional<std::string> lease_owner;
  std::optional<Timestamp> lease_expires_at;
  std::optional<std::string> last_error;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

}  // namespace pixvault
