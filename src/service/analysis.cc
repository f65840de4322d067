#include "service/analysis.h"

#include <boost/json.hpp>

#include <cstdio>

#include <algorithm>
#include <exception>
#include <map>
#include <tuple>

#include "media/audio_analysis.h"
#include "media/model3d.h"
#include "media/phash.h"
#include "media/probe.h"
#include "media/scenes.h"
#include "media/thumbnail.h"
#include "service/json_fields.h"
#include "service/probe_json.h"
#include "service/worker_pool.h"

namespace pixvault::service {
namespace {

namespace json = boost::json;

// The analysis acts for the system: it reads and writes every asset.
constexpr Viewer kSystem{0, true, true};

struct StepSpec {
  std::string_view name;
  std::int64_t version;
  bool (*applies)(const Asset&);
};

bool AnyType(const Asset&) { return true; }
bool HasPicture(const Asset& a) { return a.media_type != MediaType::kModel3d; }
bool IsModel(const Asset& a) { return a.media_type == MediaType::kModel3d; }
bool IsVideo(const Asset& a) { return a.media_type == MediaType::kVideo; }
// Audio files, and videos whose probe at ingest found an audio stream.
bool HasSound(const Asset& a) {
  if (a.media_type == MediaType::kAudio) return true;
  if (a.media_type != MediaType::kVideo) return false;
  boost::system::error_code ec;
  const json::value m = json::parse(a.media_metadata, ec);
  return !ec && m.is_object() && m.as_object().contains("audio_codec");
}

const StepSpec kSteps[] = {
    {"probe", 1, AnyType}, {"thumbnail", 1, HasPicture}, {"audio", 1, HasSound},
    {"model", 1, IsModel}, {"scenes", 2, IsVideo},  // 2: shot keyframe thumbnails
};

const StepSpec* FindStep(std::string_view name) {
  for (const StepSpec& s : kSteps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// Errors that say "try again later" are returned (the job is retried); every other failure
// of a step is the asset's and is recorded.
bool IsTransient(ErrorCode code) { return code == ErrorCode::kUnavailable; }

// The format ingest sniffed ("glb", "obj", ...), from media_metadata: blobs have no file
// extension to sniff a text format (OBJ) by again. Empty when unknown.
std::string SniffedFormat(const Asset& asset) {
  boost::system::error_code ec;
  const json::value metadata = json::parse(asset.media_metadata, ec);
  if (ec || !metadata.is_object()) return {};
  const json::value* f = metadata.as_object().if_contains("format");
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

template <class T>
void PutOpt(json::object& o, std::string_view key, const std::optional<T>& v) {
  if (v) o[key] = *v;
}

}  // namespace

struct Analyzer::StepContext {
  const Asset& asset;
  std::filesystem::path path;  // the local bytes
};

bool AnalysisOutcome::failed() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.state == "failed"; });
}

std::string AnalysisOutcome::ToJson() const {
  json::object o;
  o["asset_id"] = asset_id;
  json::object by_step;
  for (const Step& s : steps) {
    json::object step;
    step["state"] = s.state;
    if (s.error) step["error"] = *s.error;
    by_step[s.name] = std::move(step);
  }
  o["steps"] = std::move(by_step);
  return json::serialize(o);
}

Analyzer::Analyzer(storage::Store& store, blob::BlobStore& blobs, const blob::DerivedFiles& derived,
                   const Clock& clock, AnalyzerOptions options)
    : store_(store), blobs_(blobs), derived_(derived), clock_(clock), options_(options) {}

const std::vector<std::string>& Analyzer::StepNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const StepSpec& s : kSteps) out.emplace_back(s.name);
    return out;
  }();
  return names;
}

std::int64_t Analyzer::StepVersion(std::string_view step) {
  const StepSpec* spec = FindStep(step);
  return spec ? spec->version : 0;
}

Status Analyzer::ValidateSteps(const std::vector<std::string>& steps) {
  for (const std::string& s : steps) {
    if (!FindStep(s)) {
      std::string known;
      for (const StepSpec& spec : kSteps)
        known += (known.empty() ? "" : ", ") + std::string(spec.name);
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown analysis step '" + s + "' (steps: " + known + ")");
    }
  }
  return Ok();
}

Result<AnalysisOutcome> Analyzer::Analyze(AssetId id, const std::vector<std::string>& steps,
                                          bool force, const std::function<bool()>& cancelled) {
  PV_RETURN_IF_ERROR(ValidateSteps(steps));
  PV_ASSIGN_OR_RETURN(Asset asset, store_.GetAsset(kSystem, id));
  PV_ASSIGN_OR_RETURN(std::vector<AnalysisRecord> records, store_.ListAnalysis(kSystem, id));
  std::map<std::string, AnalysisRecord, std::less<>> recorded;
  for (AnalysisRecord& r : records) recorded.emplace(r.step, std::move(r));

  std::optional<std::filesystem::path> local;
  if (asset.sha256) {
    PV_ASSIGN_OR_RETURN(bool exists, blobs_.Exists(*asset.sha256));
    if (exists) local = blobs_.PathFor(*asset.sha256);
  }

  AnalysisOutcome outcome;
  outcome.asset_id = id;
  for (const StepSpec& spec : kSteps) {
    const bool requested =
        steps.empty() || std::find(steps.begin(), steps.end(), spec.name) != steps.end();
    if (!requested || !spec.applies(asset)) continue;
    if (cancelled && cancelled()) break;
    AnalysisOutcome::Step step{std::string(spec.name), "", std::nullopt};
    auto found = recorded.find(spec.name);
    const bool current = found != recorded.end() && found->second.version >= spec.version &&
                         found->second.status != AnalysisStatus::kSkipped;
    if (current && !force) {
      step.state = "up-to-date";
      outcome.steps.push_back(std::move(step));
      continue;
    }
    AnalysisRecord record;
    record.asset_id = id;
    record.step = std::string(spec.name);
    record.version = spec.version;
    if (!local) {
      record.status = AnalysisStatus::kSkipped;
      record.error = "no local copy of the bytes";
    } else {
      StepContext ctx{asset, *local};
      Result<std::string> result = Fail(ErrorCode::kInternal, "step did not run");
      try {
        if (spec.name == "probe") result = RunProbe(ctx);
        if (spec.name == "thumbnail") result = RunThumbnail(ctx);
        if (spec.name == "audio") result = RunAudio(ctx);
        if (spec.name == "model") result = RunModel(ctx);
        if (spec.name == "scenes") result = RunScenes(ctx);
      } catch (const std::exception& e) {
        result = Fail(ErrorCode::kInternal, std::string("analysis step threw: ") + e.what());
      }
      if (!result && IsTransient(result.error().code)) return Fail(result.error());
      if (result) {
        record.status = AnalysisStatus::kDone;
        record.result = std::move(*result);
      } else {
        record.status = AnalysisStatus::kFailed;
        record.error = result.error().message;
      }
    }
    PV_RETURN_IF_ERROR(store_.PutAnalysis(record));
    step.state = std::string(ToString(record.status));
    step.error = record.error;
    outcome.steps.push_back(std::move(step));
  }
  return outcome;
}

Result<AssetAudioMetadata> Analyzer::AudioMetadataOf(AssetId id) {
  auto existing = store_.GetAudioMetadata(kSystem, id);
  if (existing) return std::move(*existing);
  if (existing.error().code != ErrorCode::kNotFound) return Fail(existing.error());
  AssetAudioMetadata fresh;
  fresh.asset_id = id;
  return fresh;
}

Result<std::string> Analyzer::RunProbe(StepContext& ctx) {
  media::ProbeOptions po;
  po.max_pixels = options_.max_pixels;
  po.format_hint = SniffedFormat(ctx.asset);
  PV_ASSIGN_OR_RETURN(media::ProbeResult p, media::ProbeFile(ctx.path, ctx.asset.media_type, po));
  json::object facts = ProbeFactsJson(p);
  // The asset's media_metadata gets the measured facts; keys the probe does not produce
  // (set by people or providers) stay.
  boost::system::error_code ec;
  json::value metadata = json::parse(ctx.asset.media_metadata, ec);
  if (ec || !metadata.is_object()) metadata = json::object{};
  bool changed = false;
  for (const auto& [key, value] : facts) {
    json::value* old = metadata.as_object().if_contains(key);
    if (old == nullptr || *old != value) {
      metadata.as_object()[key] = value;
      changed = true;
    }
  }
  if (changed) {
    AssetPatch patch;
    patch.media_metadata = json::serialize(metadata);
    PV_RETURN_IF_ERROR(store_.UpdateAsset(kSystem, ctx.asset.id, patch).map([](auto&&) {}));
  }
  json::object o = facts;
  PutOpt(o, "width", p.width);
  PutOpt(o, "height", p.height);
  PutOpt(o, "duration_sec", p.duration_sec);
  PutOpt(o, "fps", p.fps);
  o["rotation"] = p.rotation;
  if (ctx.asset.media_type == MediaType::kAudio) {
    // The measured facts replace the row's; what people or other steps set stays.
    PV_ASSIGN_OR_RETURN(AssetAudioMetadata m, AudioMetadataOf(ctx.asset.id));
    if (p.sample_rate) m.sample_rate = *p.sample_rate;
    if (p.channels) m.channels = *p.channels;
    if (p.bitrate) m.bitrate = *p.bitrate;
    if (p.audio_codec) m.codec = *p.audio_codec;
    PV_RETURN_IF_ERROR(store_.PutAudioMetadata(kSystem, m).map([](auto&&) {}));
  }
  return json::serialize(o);
}

std::string Analyzer::RenditionName(Rendition r) const {
  return r == Rendition::kThumbnail ? "thumb-" + std::to_string(options_.thumbnail_size) + ".webp"
                                    : "preview-" + std::to_string(options_.preview_size) + ".webp";
}

media::DerivativeOptions Analyzer::Renditions() const {
  media::DerivativeOptions o;
  o.thumbnail_size = options_.thumbnail_size;
  o.preview_size = options_.preview_size;
  o.webp_quality = options_.webp_quality;
  o.max_pixels = options_.max_pixels;
  return o;
}

Status Analyzer::StoreRenditions(const std::string& sha256, const media::Derivatives& d) {
  PV_RETURN_IF_ERROR(
      derived_.Write(sha256, RenditionName(Rendition::kThumbnail), d.thumbnail.webp));
  return derived_.Write(sha256, RenditionName(Rendition::kPreview), d.preview.webp);
}

Result<std::string> Analyzer::RunThumbnail(StepContext& ctx) {
  PV_ASSIGN_OR_RETURN(media::Derivatives d,
                      media::RenderDerivatives(ctx.path, ctx.asset.media_type, Renditions()));
  PV_RETURN_IF_ERROR(StoreRenditions(*ctx.asset.sha256, d));
  json::object o;
  auto picture = [](const media::RenderedImage& r) {
    return json::object{{"width", r.width},
                        {"height", r.height},
                        {"bytes", static_cast<std::int64_t>(r.webp.size())}};
  };
  o["thumbnail"] = picture(d.thumbnail);
  o["preview"] = picture(d.preview);
  if (d.hashes) {
    PV_RETURN_IF_ERROR(
        store_.PutPerceptualHash(PerceptualHash{ctx.asset.id, d.hashes->phash, d.hashes->dhash}));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(d.hashes->phash));
    o["phash"] = hex;
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(d.hashes->dhash));
    o["dhash"] = hex;
  }
  return json::serialize(o);
}

Result<std::string> Analyzer::RunAudio(StepContext& ctx) {
  PV_ASSIGN_OR_RETURN(media::AudioAnalysis a, media::AnalyzeAudio(ctx.path));
  json::object loudness;
  PutOpt(loudness, "integrated_lufs", a.loudness.integrated_lufs);
  PutOpt(loudness, "range_lu", a.loudness.range_lu);
  PutOpt(loudness, "true_peak_dbtp", a.loudness.true_peak_dbtp);
  PutOpt(loudness, "sample_peak_dbfs", a.loudness.sample_peak_dbfs);
  json::value tempo = nullptr;
  if (a.tempo) {
    tempo = json::object{{"bpm", a.tempo->bpm},
                         {"confidence", a.tempo->confidence},
                         {"half_bpm", a.tempo->half_bpm},
                         {"double_bpm", a.tempo->double_bpm}};
  }
  // Runs of equal windows, as [start, end, kind]: a long file stays a short list.
  json::array runs;
  for (const media::AudioWindow& w : a.windows) {
    const char* kind = media::AudioWindowKindName(w.kind);
    if (!runs.empty()) {
      json::array& last = runs.back().as_array();
      if (last[2].as_string() == kind) {  // windows are contiguous
        last[1] = w.end_sec;
        continue;
      }
    }
    runs.push_back(json::array{w.start_sec, w.end_sec, kind});
  }
  json::object o{{"sample_rate", a.sample_rate},
                 {"channels", a.channels},
                 {"codec", a.codec},
                 {"duration_sec", a.duration_sec},
                 {"analysed_sec", a.analysed_sec},
                 {"complete", a.complete},
                 {"decode_errors", a.decode_errors},
                 {"loudness", loudness},
                 {"tempo", tempo},
                 {"is_silent", a.is_silent},
                 {"is_speech", a.is_speech},
                 {"windows", std::move(runs)}};
  PutOpt(o, "bitrate", a.bitrate);

  // The measured fields of asset_audio_metadata; `extra` keeps its other keys.
  PV_ASSIGN_OR_RETURN(AssetAudioMetadata m, AudioMetadataOf(ctx.asset.id));
  m.sample_rate = a.sample_rate;
  m.channels = a.channels;
  if (!a.codec.empty()) m.codec = a.codec;
  if (a.bitrate) m.bitrate = *a.bitrate;
  m.bpm = a.tempo ? std::optional<double>(a.tempo->bpm) : std::nullopt;
  m.is_speech = a.is_speech;
  boost::system::error_code ec;
  json::value extra = json::parse(m.extra, ec);
  if (ec || !extra.is_object()) extra = json::object{};
  extra.as_object()["loudness"] = loudness;
  extra.as_object()["tempo_confidence"] = a.tempo ? json::value(a.tempo->confidence) : nullptr;
  m.extra = json::serialize(extra);
  PV_RETURN_IF_ERROR(store_.PutAudioMetadata(kSystem, m).map([](auto&&) {}));
  return json::serialize(o);
}

Result<std::string> Analyzer::RunModel(StepContext& ctx) {
  PV_ASSIGN_OR_RETURN(media::ModelFacts f, media::AnalyzeModel(ctx.path, SniffedFormat(ctx.asset)));
  json::value box = nullptr;
  if (f.bounding_box_size) {
    box = json::array{(*f.bounding_box_size)[0], (*f.bounding_box_size)[1],
                      (*f.bounding_box_size)[2]};
  }
  json::array warnings;
  for (const std::string& w : f.warnings) warnings.emplace_back(w);
  const std::string parser(media::ModelParserName(f.parser));

  // The measured fields of asset_3d_metadata; `extra` keeps its other keys.
  Asset3dMetadata m;
  if (auto existing = store_.Get3dMetadata(kSystem, ctx.asset.id)) {
    m = std::move(*existing);
  } else if (existing.error().code != ErrorCode::kNotFound) {
    return Fail(existing.error());
  }
  m.asset_id = ctx.asset.id;
  m.polygon_count = f.polygon_count;
  m.vertex_count = f.vertex_count;
  m.file_format = f.file_format;
  m.has_textures = f.has_textures;
  m.has_animations = f.has_animations;
  m.has_rigging = f.has_rigging;
  m.has_materials = f.has_materials;
  m.material_count = f.material_count;
  m.texture_resolution = f.texture_resolution;
  m.bounding_box_size = json::serialize(box);
  boost::system::error_code ec;
  json::value extra = json::parse(m.extra, ec);
  if (ec || !extra.is_object()) extra = json::object{};
  extra.as_object()["parser"] = parser;
  extra.as_object()["warnings"] = warnings;
  m.extra = json::serialize(extra);
  PV_RETURN_IF_ERROR(store_.Put3dMetadata(kSystem, m).map([](auto&&) {}));

  json::object o{{"polygon_count", f.polygon_count},
                 {"vertex_count", f.vertex_count},
                 {"file_format", f.file_format},
                 {"has_textures", f.has_textures},
                 {"has_animations", f.has_animations},
                 {"has_rigging", f.has_rigging},
                 {"has_materials", f.has_materials},
                 {"material_count", f.material_count},
                 {"texture_resolution", service::OrNull(f.texture_resolution)},
                 {"bounding_box_size", box},
                 {"parser", parser},
                 {"warnings", std::move(warnings)}};
  return json::serialize(o);
}

Result<std::string> Analyzer::RunScenes(StepContext& ctx) {
  media::SceneOptions so;
  so.max_pixels = options_.max_pixels;
  PV_ASSIGN_OR_RETURN(media::SceneAnalysis scenes, media::DetectScenes(ctx.path, so));
  // A damaged stream (bit rot, a bad copy) is reported, not segmented: its shots would be
  // artefacts of the damage. One glitch in a hundred frames is tolerated (and counted).
  const std::int64_t damage = scenes.damaged_frames + scenes.decode_errors;
  if (scenes.truncated || damage * 100 > scenes.frame_count) {
    std::string what = "the video stream is damaged: " + std::to_string(scenes.frame_count) +
                       " frames decoded, " + std::to_string(scenes.damaged_frames) +
                       " with errors concealed, " + std::to_string(scenes.decode_errors) +
                       " packets refused by the decoder";
    if (scenes.truncated) what += ", reading stopped before the end";
    return Fail(ErrorCode::kCorrupt, what);
  }
  // A thumbnail of each shot's keyframe; those of an earlier run go first.
  std::vector<double> times;
  for (const media::Shot& shot : scenes.shots) times.push_back(shot.keyframe_time_sec);
  PV_ASSIGN_OR_RETURN(std::vector<media::RenderedImage> pictures,
                      media::RenderVideoFrames(ctx.path, times, ShotRenderOptions()));
  const std::string& sha256 = *ctx.asset.sha256;
  PV_RETURN_IF_ERROR(derived_.RemoveWithPrefix(sha256, "shot-"));
  for (std::size_t i = 0; i < scenes.shots.size(); ++i) {
    PV_RETURN_IF_ERROR(
        derived_.Write(sha256, ShotThumbnailName(scenes.shots[i].keyframe), pictures[i].webp));
  }
  // Each shot becomes a "shot" segment; a re-run replaces the previous ones (and only them).
  std::vector<TemporalSegment> segments;
  json::array shots;
  for (const media::Shot& shot : scenes.shots) {
    json::array colors;
    for (const media::DominantColor& c : shot.dominant_colors) {
      colors.push_back(json::object{{"hex", c.hex}, {"weight", c.weight}});
    }
    TemporalSegment seg;
    seg.asset_id = ctx.asset.id;
    seg.segment_type = "shot";
    seg.timestamp_sec = shot.start_sec;
    seg.end_sec = shot.end_sec;
    seg.frame_number = shot.start_frame;
    seg.brightness = shot.brightness;
    seg.dominant_colors = json::serialize(colors);
    seg.camera_motion = std::string(media::CameraMotionName(shot.camera_motion));
    seg.thumbnail_url = ShotThumbnailPath(ctx.asset.id, shot.keyframe);
    segments.push_back(std::move(seg));
    shots.push_back(json::object{{"start_frame", shot.start_frame},
                                 {"end_frame", shot.end_frame},
                                 {"start_sec", shot.start_sec},
                                 {"end_sec", shot.end_sec},
                                 {"boundary", media::ShotBoundaryName(shot.boundary)},
                                 {"keyframe", shot.keyframe},
                                 {"keyframe_time_sec", shot.keyframe_time_sec},
                                 {"brightness", shot.brightness},
                                 {"dominant_colors", std::move(colors)},
                                 {"camera_motion", media::CameraMotionName(shot.camera_motion)}});
  }
  PV_RETURN_IF_ERROR(
      store_.ReplaceSegments(kSystem, ctx.asset.id, "shot", segments).map([](auto&&) {}));
  json::object o{{"frame_count", scenes.frame_count},     {"fps", scenes.fps},
                 {"truncated", scenes.truncated},         {"damaged_frames", scenes.damaged_frames},
                 {"decode_errors", scenes.decode_errors}, {"shots", std::move(shots)}};
  return json::serialize(o);
}

std::string Analyzer::ShotThumbnailName(std::int64_t keyframe) const {
  return "shot-" + std::to_string(keyframe) + "-" + std::to_string(options_.thumbnail_size) +
         ".webp";
}

media::RenderOptions Analyzer::ShotRenderOptions() const {
  media::RenderOptions o;
  o.size = options_.thumbnail_size;
  o.webp_quality = options_.webp_quality;
  o.max_pixels = options_.max_pixels;
  return o;
}

Result<std::string> Analyzer::ShotThumbnailBytes(const Asset& asset, std::int64_t keyframe) {
  const auto no_shot = [&] {
    return Fail(ErrorCode::kNotFound, "asset " + std::to_string(asset.id) +
                                          " has no shot with keyframe " + std::to_string(keyframe) +
                                          " (see its segments)");
  };
  if (!asset.sha256 || keyframe < 0) return no_shot();
  auto stored = derived_.Read(*asset.sha256, ShotThumbnailName(keyframe));
  if (stored || stored.error().code != ErrorCode::kNotFound) return stored;
  // Missing (another thumbnail size configured, or removed): rendered again from the time the
  // scene analysis recorded for the keyframe.
  PV_ASSIGN_OR_RETURN(std::vector<AnalysisRecord> records, store_.ListAnalysis(kSystem, asset.id));
  std::optional<double> time;
  for (const AnalysisRecord& r : records) {
    if (r.step != "scenes" || r.status != AnalysisStatus::kDone) continue;
    boost::system::error_code ec;
    const json::value result = json::parse(r.result, ec);
    const json::value* shots =
        ec || !result.is_object() ? nullptr : result.as_object().if_contains("shots");
    if (shots == nullptr || !shots->is_array()) break;
    for (const json::value& shot : shots->as_array()) {
      const json::object* o = shot.if_object();
      const json::value* k = o ? o->if_contains("keyframe") : nullptr;
      const json::value* t = o ? o->if_contains("keyframe_time_sec") : nullptr;
      if (k && t && k->is_int64() && k->as_int64() == keyframe && t->is_number()) {
        time = t->to_number<double>();
      }
    }
  }
  if (!time) return no_shot();
  PV_ASSIGN_OR_RETURN(bool exists, blobs_.Exists(*asset.sha256));
  if (!exists) {
    return Fail(ErrorCode::kNotFound,
                "asset " + std::to_string(asset.id) + " has no local bytes to render");
  }
  PV_ASSIGN_OR_RETURN(
      std::vector<media::RenderedImage> pictures,
      media::RenderVideoFrames(blobs_.PathFor(*asset.sha256), {*time}, ShotRenderOptions()));
  PV_RETURN_IF_ERROR(derived_.Write(*asset.sha256, ShotThumbnailName(keyframe), pictures[0].webp));
  return std::move(pictures[0].webp);
}

std::string ShotThumbnailPath(AssetId asset, std::int64_t keyframe) {
  return "/api/v1/assets/" + std::to_string(asset) + "/shots/" + std::to_string(keyframe) +
         "/thumbnail";
}

Result<std::string> Analyzer::RenditionBytes(const Asset& asset, Rendition r) {
  if (!HasPicture(asset)) {
    return Fail(ErrorCode::kNotFound, "a " + std::string(ToString(asset.media_type)) +
                                          " asset has no thumbnail or preview");
  }
  if (!asset.sha256) {
    return Fail(ErrorCode::kNotFound,
                "asset " + std::to_string(asset.id) + " has no local bytes to render");
  }
  auto stored = derived_.Read(*asset.sha256, RenditionName(r));
  if (stored || stored.error().code != ErrorCode::kNotFound) return stored;
  // Missing (never analysed, other size configured, or removed): render both now.
  PV_ASSIGN_OR_RETURN(bool exists, blobs_.Exists(*asset.sha256));
  if (!exists) {
    return Fail(ErrorCode::kNotFound,
                "asset " + std::to_string(asset.id) + " has no local bytes to render");
  }
  PV_ASSIGN_OR_RETURN(
      media::Derivatives d,
      media::RenderDerivatives(blobs_.PathFor(*asset.sha256), asset.media_type, Renditions()));
  PV_RETURN_IF_ERROR(StoreRenditions(*asset.sha256, d));
  return r == Rendition::kThumbnail ? std::move(d.thumbnail.webp) : std::move(d.preview.webp);
}

// --- Near duplicates ----------------------------------------------------------------------

Result<std::vector<std::int64_t>> CandidateBandKeys(std::uint64_t phash, int max_distance) {
  PV_ASSIGN_OR_RETURN(std::vector<media::BandKey> bands,
                      media::CandidateBands(phash, max_distance));
  std::vector<std::int64_t> keys;
  keys.reserve(bands.size());
  for (const media::BandKey& b : bands) keys.push_back(256 * std::int64_t{b.index} + b.value);
  return keys;
}

Result<NearDuplicateSearch> FindNearDuplicates(storage::Store& store, const Viewer& viewer,
                                               AssetId id, int max_distance, std::int64_t limit,
                                               std::int64_t max_candidates) {
  if (max_distance < 0 || max_distance > 15) {
    return Fail(ErrorCode::kInvalidArgument, "max_distance must be between 0 and 15");
  }
  PV_ASSIGN_OR_RETURN(PerceptualHash self, store.GetPerceptualHash(viewer, id));
  PV_ASSIGN_OR_RETURN(std::vector<std::int64_t> keys, CandidateBandKeys(self.phash, max_distance));
  // Candidates share a band with the hash; most of them are far in the other bands. The cap
  // bounds the work on a catalogue full of near-identical pictures; one more is asked for, to
  // know whether it cut anything.
  max_candidates = std::max<std::int64_t>(max_candidates, 1);
  PV_ASSIGN_OR_RETURN(std::vector<PerceptualHash> candidates,
                      store.FindHashCandidates(viewer, keys, id, max_candidates + 1));
  NearDuplicateSearch out;
  if (static_cast<std::int64_t>(candidates.size()) > max_candidates) {
    candidates.resize(static_cast<std::size_t>(max_candidates));
    out.complete = false;
  }
  for (const PerceptualHash& c : candidates) {
    const int d = media::HammingDistance(c.phash, self.phash);
    if (d > max_distance) continue;
    out.items.push_back({c.asset_id, d, media::HammingDistance(c.dhash, self.dhash)});
  }
  std::sort(out.items.begin(), out.items.end(), [](const NearDuplicate& a, const NearDuplicate& b) {
    return std::tie(a.distance, a.dhash_distance, a.asset_id) <
           std::tie(b.distance, b.dhash_distance, b.asset_id);
  });
  if (static_cast<std::int64_t>(out.items.size()) > limit) {
    out.items.resize(static_cast<std::size_t>(limit));
  }
  return out;
}

// --- The job queue --------------------------------------------------------------------------

Result<Job> EnqueueAnalysis(storage::Store& store, const AnalyzeRequest& request) {
  PV_ASSIGN_OR_RETURN(Job job, AnalysisJob(request));
  PV_ASSIGN_OR_RETURN(storage::Store::Enqueued enqueued, store.EnqueueJob(job));
  return std::move(enqueued.job);
}

Result<Job> AnalysisJob(const AnalyzeRequest& request) {
  PV_RETURN_IF_ERROR(Analyzer::ValidateSteps(request.steps));
  json::object payload;
  payload["asset_id"] = request.asset_id;
  json::array steps;
  for (const std::string& s : request.steps) steps.emplace_back(s);
  payload["steps"] = std::move(steps);
  payload["force"] = request.force;
  Job job;
  job.kind = std::string(kAnalyzeJobKind);
  job.user_id = request.requested_by;
  if (request.on_ingest)
    job.idempotency_key = "analyze-on-ingest:" + std::to_string(request.asset_id);
  job.payload = json::serialize(payload);
  job.max_attempts = 3;
  return job;
}

void RegisterAnalysisJob(WorkerPool& pool, Analyzer& analyzer) {
  pool.Register(std::string(kAnalyzeJobKind), [&analyzer](JobContext& ctx) -> Result<std::string> {
    boost::system::error_code ec;
    json::value payload = json::parse(ctx.job().payload, ec);
    const json::object* o = ec ? nullptr : payload.if_object();
    const json::value* id = o ? o->if_contains("asset_id") : nullptr;
    if (!id || !id->is_int64()) {
      return Fail(ErrorCode::kInvalidArgument, "analyze job payload without an asset_id");
    }
    std::vector<std::string> steps;
    if (const json::value* s = o->if_contains("steps"); s && s->is_array()) {
      for (const json::value& v : s->as_array()) {
        if (!v.is_string())
          return Fail(ErrorCode::kInvalidArgument, "analyze job steps must be strings");
        steps.emplace_back(v.as_string());
      }
    }
    const json::value* force = o->if_contains("force");
    PV_ASSIGN_OR_RETURN(
        AnalysisOutcome outcome,
        analyzer.Analyze(id->as_int64(), steps, force && force->is_bool() && force->as_bool(),
                         [&ctx] { return ctx.cancelled(); }));
    if (outcome.failed()) {
      std::string message;
      for (const auto& s : outcome.steps) {
        if (s.state != "failed") continue;
        message += (message.empty() ? "" : "; ") + s.name + ": " + s.error.value_or("failed");
      }
      return Fail(ErrorCode::kCorrupt, message);
    }
    return outcome.ToJson();
  });
}

}  // namespace pixvault::service
