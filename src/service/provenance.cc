#include "service/provenance.h"

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>

namespace pixvault::service {

namespace {

constexpr std::string_view kUserUpload = "user_upload";

boost::json::object Typed(std::string value, std::string_view type) {
  return {{"$", std::move(value)}, {"type", type}};
}
boost::json::object QName(std::string value) {
  return Typed(std::move(value), "prov:QUALIFIED_NAME");
}

std::string AssetRef(AssetId id) { return "asset:" + std::to_string(id); }
std::string UserAgent(UserId id) { return "user:" + std::to_string(id); }
// Provider ids are free text ("pixverse", "local-folder"); anything outside a safe QName
// local part becomes '_'.
std::string ProviderAgent(std::string_view provider) {
  std::string out = "provider:";
  for (char c : provider) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out += ok ? c : '_';
  }
  return out;
}

std::string ActivityId(const LineageEdge& e) {
  if (e.operation_job_id) return "job:" + std::to_string(*e.operation_job_id);
  return "op:" + std::to_string(e.child_asset_id) + "-" +
         std::string(e.operation_type ? ToString(*e.operation_type) : "derivation");
}

boost::json::object Entity(const Asset& a) {
  boost::json::object o;
  o["prov:type"] = QName("pixvault:" + std::string(ToString(a.media_type)));
  if (a.description) o["prov:label"] = *a.description;
  if (a.sha256) o["pixvault:sha256"] = *a.sha256;
  if (a.mime_type) o["pixvault:mime_type"] = *a.mime_type;
  if (a.duration_sec) o["pixvault:duration_sec"] = *a.duration_sec;
  if (a.fps) o["pixvault:fps"] = *a.fps;
  if (a.width) o["pixvault:width"] = *a.width;
  if (a.height) o["pixvault:height"] = *a.height;
  o["pixvault:provider_id"] = a.provider_id;
  o["pixvault:created_at"] = Typed(FormatTimestamp(a.created_at), "xsd:dateTime");
  return o;
}

}  // namespace

boost::json::object ProvenanceDocument(const LineageGraph& graph) {
  std::map<AssetId, const Asset*> assets;
  for (const Asset& a : graph.nodes) assets[a.id] = &a;

  boost::json::object entity, activity, agent, used, derived, generated, associated, attributed;
  auto add_user = [&](UserId id) {
    std::string key = UserAgent(id);
    if (!agent.contains(key)) {
      agent[key] =
          boost::json::object{{"prov:type", QName("prov:Person")}, {"pixvault:user_id", id}};
    }
    return key;
  };
  auto add_provider = [&](const std::string& provider) {
    std::string key = ProviderAgent(provider);
    if (!agent.contains(key)) {
      agent[key] = boost::json::object{{"prov:type", QName("prov:SoftwareAgent")},
                                       {"pixvault:provider_id", provider}};
    }
    return key;
  };

  for (const Asset& a : graph.nodes) {
    std::string id = AssetRef(a.id);
    entity[id] = Entity(a);
    attributed["_:attribution-" + std::to_string(a.id)] =
        boost::json::object{{"prov:entity", id}, {"prov:agent", add_user(a.user_id)}};
  }

  std::set<std::pair<std::string, AssetId>> generations;  // (activity, child) already emitted
  std::set<std::pair<std::string, std::string>> associations;
  for (const WalkedEdge& w : graph.edges) {
    const LineageEdge& e = w.edge;
    auto child = assets.find(e.child_asset_id);
    if (child == assets.end() || !assets.count(e.parent_asset_id)) continue;  // not loaded
    const Asset& c = *child->second;
    const std::string act = ActivityId(e);
    if (!activity.contains(act)) {
      boost::json::object o;
      if (e.operation_type) {
        o["prov:type"] = QName("pixvault:" + std::string(ToString(*e.operation_type)));
      }
      if (e.operation_job_id) o["pixvault:operation_job_id"] = *e.operation_job_id;
      activity[act] = std::move(o);
    }
    const std::string edge = std::to_string(e.id);
    const std::string gen = "_:generation-" + act + "-" + std::to_string(c.id);
    if (generations.insert({act, c.id}).second) {
      generated[gen] = boost::json::object{{"prov:entity", AssetRef(c.id)},
                                           {"prov:activity", act},
                                           {"prov:time", FormatTimestamp(c.created_at)}};
    }
    boost::json::object use{{"prov:activity", act},
                            {"prov:entity", AssetRef(e.parent_asset_id)},
                            {"prov:role", QName("pixvault:" + e.parent_role)},
                            {"pixvault:sequence_order", e.sequence_order}};
    if (e.parent_start_time) use["pixvault:parent_start_time"] = *e.parent_start_time;
    if (e.parent_end_time) use["pixvault:parent_end_time"] = *e.parent_end_time;
    if (e.parent_frame) use["pixvault:parent_frame"] = *e.parent_frame;
    used["_:usage-" + edge] = std::move(use);
    derived["_:derivation-" + edge] =
        boost::json::object{{"prov:generatedEntity", AssetRef(c.id)},
                            {"prov:usedEntity", AssetRef(e.parent_asset_id)},
                            {"prov:activity", act},
                            {"prov:generation", gen},
                            {"prov:usage", "_:usage-" + edge},
                            {"pixvault:lineage_edge_id", e.id}};
    std::vector<std::pair<std::string, std::string>> agents{{add_user(c.user_id), "requester"}};
    if (c.provider_id != kUserUpload) agents.emplace_back(add_provider(c.provider_id), "generator");
    for (const auto& [who, role] : agents) {
      if (!associations.insert({act, who}).second) continue;
      associated["_:association-" + act + "-" + who] = boost::json::object{
          {"prov:activity", act}, {"prov:agent", who}, {"prov:role", QName("pixvault:" + role)}};
    }
  }

  boost::json::object doc;
  doc["prefix"] = boost::json::object{
      {"pixvault", kPixvaultNamespace},      {"xsd", "http://www.w3.org/2001/XMLSchema#"},
      {"asset", "urn:pixvault:asset:"},      {"job", "urn:pixvault:job:"},
      {"op", "urn:pixvault:operation:"},     {"user", "urn:pixvault:user:"},
      {"provider", "urn:pixvault:provider:"}};
  auto put = [&doc](std::string_view key, boost::json::object o) {
    if (!o.empty()) doc[key] = std::move(o);
  };
  put("entity", std::move(entity));
  put("activity", std::move(activity));
  put("agent", std::move(agent));
  put("used", std::move(used));
  put("wasGeneratedBy", std::move(generated));
  put("wasDerivedFrom", std::move(derived));
  put("wasAssociatedWith", std::move(associated));
  put("wasAttributedTo", std::move(attributed));
  return doc;
}

}  // namespace pixvault::service
