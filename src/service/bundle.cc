#include "service/bundle.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <pixvault/branch_runtime.hpp>

#include "core/json_writer.h"

namespace pixvault::service {

namespace {

// The facts of media_metadata a bundle node carries.
struct MediaFacts {
  std::optional<std::string> codec, pixel_format, format;
};

MediaFacts ReadMediaFacts(const std::string& media_metadata) {
  MediaFacts out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(media_metadata, ec);
  const boost::json::object* o = ec ? nullptr : v.if_object();
  if (!o) return out;
  auto text = [o](std::string_view key) -> std::optional<std::string> {
    const boost::json::value* m = o->if_contains(key);
    if (!m || !m->is_string()) return std::nullopt;
    return std::string(m->get_string());
  };
  out.codec = text("video_codec");
  out.pixel_format = text("pixel_format");
  out.format = text("format");
  return out;
}

// "media/<sha256>.<format>"; the format is a sniffed short name ([a-z0-9]+), anything else
// is left out of the name.
std::string MediaPath(const std::string& sha256, const std::optional<std::string>& format) {
  std::string path = "media/" + sha256;
  if (format && !format->empty() && format->size() <= 16 &&
      std::all_of(format->begin(), format->end(),
                  [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); })) {
    path += "." + *format;
  }
  return path;
}

// The members of a node that validation reads (format_mismatch), for the check document.
void WriteCheckedNode(JsonWriter& w, const Asset& a, const MediaFacts& facts) {
  w.BeginObject();
  w.Key("id");
  w.Int(a.id);
  w.Key("duration");
  w.Optional(a.duration_sec);
  w.Key("fps");
  w.Optional(a.fps);
  w.Key("width");
  w.Optional(a.width);
  w.Key("height");
  w.Optional(a.height);
  w.Key("codec");
  w.Optional(facts.codec);
  w.Key("pixel_format");
  w.Optional(facts.pixel_format);
  w.EndObject();
}

void WriteNode(JsonWriter& w, const Asset& a, const MediaFacts& facts, const BundleOptions& options,
               ExportedBundle& out, std::unordered_set<std::string>& seen_blobs) {
  w.BeginObject();
  w.Key("id");
  w.Int(a.id);
  w.Key("sha256");
  w.Optional(a.sha256);
  w.Key("media_type");
  w.String(ToString(a.media_type));
  w.Key("mime_type");
  w.Optional(a.mime_type);
  w.Key("size_bytes");
  w.Optional(a.file_size_bytes);
  w.Key("duration");
  w.Optional(a.duration_sec);
  w.Key("fps");
  w.Optional(a.fps);
  w.Key("width");
  w.Optional(a.width);
  w.Key("height");
  w.Optional(a.height);
  w.Key("codec");
  w.Optional(facts.codec);
  w.Key("pixel_format");
  w.Optional(facts.pixel_format);
  w.Key("file");
  if (options.with_media && a.sha256) {
    std::string path = MediaPath(*a.sha256, facts.format);
    w.String(path);
    if (seen_blobs.insert(*a.sha256).second) {
      out.files.push_back(BundleFile{a.id, *a.sha256, std::move(path)});
    }
  } else {
    if (options.with_media) out.without_bytes.push_back(a.id);
    w.Null();
  }
  w.Key("url");
  w.String("/api/v1/assets/" + std::to_string(a.id) + "/file");
  w.EndObject();
}

// Stored conditions and effects are JSON the store validated; effects "null" means none.
void WriteVariant(JsonWriter& w, const BranchVariant& v) {
  w.BeginObject();
  w.Key("id");
  w.Int(v.id);
  w.Key("node");
  w.Int(v.variant_asset_id);
  w.Key("name");
  w.String(v.variant_name);
  w.Key("tag");
  w.Optional(v.variant_tag);
  w.Key("weight");
  w.Double(v.weight);
  w.Key("condition");
  w.Raw(v.conditions.empty() ? "null" : v.conditions);
  w.Key("effects");
  w.Raw(v.effects.empty() || v.effects == "null" ? "[]" : v.effects);
  w.EndObject();
}

}  // namespace

Result<ExportedBundle> ExportBundle(storage::Store& store, const Viewer& viewer, AssetId root,
                                    const BundleOptions& options, Timestamp now) {
  PV_ASSIGN_OR_RETURN(storage::BranchGraph graph,
                      store.LoadBranchGraph(viewer, root, options.max_nodes));
  const UserId owner = graph.nodes.front().user_id;
  PV_ASSIGN_OR_RETURN(std::vector<StateVariable> state, store.ListStateVariables(viewer, owner));

  std::unordered_map<AssetId, const Asset*> nodes;
  nodes.reserve(graph.nodes.size());
  for (const Asset& a : graph.nodes) nodes.emplace(a.id, &a);

  // Two documents share their head, branch points and clips: the bundle, and the one
  // validation loads, whose nodes carry only what the checks read (most of a bundle's bytes
  // are node facts a game needs and the checks do not).
  ExportedBundle out;
  out.node_count = graph.nodes.size();
  std::string& doc = out.json;
  doc.reserve(512 + graph.nodes.size() * 400 + graph.variants.size() * 160);
  JsonWriter w(doc);
  w.BeginObject();
  w.Key("format");
  w.String("pixvault.bundle");
  w.Key("version");
  w.Int(1);
  w.Key("root");
  w.Int(root);
  w.Key("generated_at");
  w.String(FormatTimestamp(now));

  w.Key("state");
  w.BeginArray();
  for (const StateVariable& var : state) {
    w.BeginObject();
    w.Key("name");
    w.String(var.name);
    w.Key("type");
    w.String(var.type);
    if (var.initial_value) {
      w.Key("initial");
      w.Raw(*var.initial_value);
    }
    w.EndObject();
  }
  w.EndArray();
  std::string check = doc;  // the head so far, ending with a value
  check.reserve(doc.size() + graph.nodes.size() * 130);
  check += ',';
  JsonWriter cw(check);
  cw.Key("nodes");
  cw.BeginArray();

  std::unordered_set<std::string> seen_blobs;
  w.Key("nodes");
  w.BeginArray();
  for (const Asset& a : graph.nodes) {
    const MediaFacts facts = ReadMediaFacts(a.media_metadata);
    WriteNode(w, a, facts, options, out, seen_blobs);
    WriteCheckedNode(cw, a, facts);
  }
  w.EndArray();
  cw.EndArray();

  // `,"branch_points":[...],"clips":[...]`, appended to both documents.
  std::string tail;
  tail.reserve(64 + graph.branches.size() * 300 + graph.variants.size() * 160);
  tail += ',';
  JsonWriter tw(tail);

  // Variants arrive grouped by branch point, branch points by id: one merge pass.
  tw.Key("branch_points");
  tw.BeginArray();
  std::size_t vi = 0;
  for (const Branch& b : graph.branches) {
    while (vi < graph.variants.size() && graph.variants[vi].branch_id < b.id) ++vi;
    const std::size_t first = vi;
    while (vi < graph.variants.size() && graph.variants[vi].branch_id == b.id) ++vi;
    tw.BeginObject();
    tw.Key("id");
    tw.Int(b.id);
    tw.Key("node");
    tw.Int(b.source_asset_id);
    tw.Key("name");
    tw.String(b.branch_name);
    tw.Key("tag");
    tw.Optional(b.branch_tag);
    tw.Key("type");
    tw.String(ToString(b.branch_type));
    tw.Key("time");
    tw.Double(b.branch_time);
    tw.Key("frame");
    tw.Optional(b.branch_frame);
    tw.Key("show_at");
    tw.Double(b.show_at.value_or(0.0));
    tw.Key("hide_at");
    tw.Double(b.hide_at.value_or(b.branch_time));
    tw.Key("default_variant");
    tw.Optional(b.default_variant_id);
    tw.Key("variants");
    tw.BeginArray();
    for (std::size_t i = first; i < vi; ++i) WriteVariant(tw, graph.variants[i]);
    tw.EndArray();
    // Each distinct target node once, in variant order; a dangling target has no bytes.
    tw.Key("prefetch");
    tw.BeginArray();
    std::vector<AssetId> listed;
    for (std::size_t i = first; i < vi; ++i) {
      const AssetId target = graph.variants[i].variant_asset_id;
      auto it = nodes.find(target);
      if (it == nodes.end() || std::find(listed.begin(), listed.end(), target) != listed.end()) {
        continue;
      }
      listed.push_back(target);
      std::int64_t bytes = options.prefetch_bytes;
      if (it->second->file_size_bytes) bytes = std::min(bytes, *it->second->file_size_bytes);
      tw.BeginObject();
      tw.Key("node");
      tw.Int(target);
      tw.Key("bytes");
      tw.Int(bytes);
      tw.EndObject();
    }
    tw.EndArray();
    tw.EndObject();
  }
  tw.EndArray();

  // An extracted clip asset is named only when it is a node of this bundle (reachable
  // through variants); otherwise a game has no file for it.
  tw.Key("clips");
  tw.BeginArray();
  for (const Clip& c : graph.clips) {
    tw.BeginObject();
    tw.Key("id");
    tw.Int(c.id);
    tw.Key("node");
    tw.Int(c.source_asset_id);
    tw.Key("tag");
    tw.String(c.clip_tag);
    tw.Key("name");
    tw.Optional(c.clip_name);
    tw.Key("start");
    tw.Double(c.start_time);
    tw.Key("end");
    tw.Double(c.end_time);
    tw.Key("extracted_node");
    if (c.extracted_asset_id && nodes.contains(*c.extracted_asset_id)) {
      tw.Int(*c.extracted_asset_id);
    } else {
      tw.Null();
    }
    tw.EndObject();
  }
  tw.EndArray();

  // The validation a game would see: the runtime's lenient load, then its graph checks.
  check += tail;
  check += '}';
  auto loaded = branch::LoadBundle(check, branch::LoadMode::kLenient);
  if (!loaded) {
    return Fail(ErrorCode::kInternal,
                "the exported bundle does not load: " + loaded.error().message);
  }
  const std::vector<branch::Issue> issues = branch::Validate(*loaded);
  out.issue_count = issues.size();
  doc += tail;
  doc += ",\"validation\":";
  doc += branch::ValidationToJson(issues);
  doc += '}';
  return out;
}

}  // namespace pixvault::service
