// GET /api/v1/assets/{id}/provenance: the lineage as W3C PROV-JSON, checked for structure
// (every referenced id declared, relation ids unique, typed literals) and content; and the
// lineage routes in the OpenAPI document. Both backends.
#include <boost/json.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>

#include "http/http_lineage_fixture.h"

namespace pixvault::http::testing {
namespace {

namespace json = boost::json;

const std::vector<std::string> kRelations = {"used", "wasGeneratedBy", "wasDerivedFrom",
                                             "wasAssociatedWith", "wasAttributedTo"};
// Members of relations that hold the id of another record, and where it must be declared.
const std::map<std::string, std::string> kReferences = {
    {"prov:entity", "entity"},     {"prov:activity", "activity"},
    {"prov:agent", "agent"},       {"prov:generatedEntity", "entity"},
    {"prov:usedEntity", "entity"}, {"prov:generation", "wasGeneratedBy"},
    {"prov:usage", "used"},
};

class HttpProvenanceTest : public HttpLineageTest {
 protected:
  // Checks what every PROV-JSON document must satisfy; returns the document.
  json::object CheckedProvenance(std::int64_t id, std::string_view query = "") {
    HttpResponse res = Call("GET", AssetPath(id) + "/provenance" + std::string(query), alice_key_);
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.Header("Content-Type").value_or(""), "application/json");
    json::value v = ParseJson(res.body);
    if (!v.is_object()) return {};
    json::object doc = v.as_object();
    static const std::set<std::string> kSections = {
        "prefix",         "entity",         "activity",          "agent",          "used",
        "wasGeneratedBy", "wasDerivedFrom", "wasAssociatedWith", "wasAttributedTo"};
    for (const auto& kv : doc) {
      EXPECT_TRUE(kSections.count(std::string(kv.key()))) << "unexpected section " << kv.key();
      EXPECT_TRUE(kv.value().is_object()) << kv.key();
    }
    const json::object& prefix = doc.at("prefix").as_object();
    EXPECT_TRUE(prefix.contains("pixvault"));
    EXPECT_TRUE(prefix.contains("xsd"));
    // Every qualified name uses a declared prefix (prov and xsd are predefined in PROV-JSON,
    // "_" marks blank nodes).
    auto check_qname = [&](std::string_view name, std::string_view where) {
      auto colon = name.find(':');
      ASSERT_NE(colon, std::string_view::npos) << where << ": " << name;
      std::string p(name.substr(0, colon));
      EXPECT_TRUE(p == "prov" || p == "xsd" || p == "_" || prefix.contains(p))
          << where << ": undeclared prefix in " << name;
      EXPECT_GT(name.size(), colon + 1) << name;
    };
    std::set<std::string> relation_ids;
    for (const char* section : {"entity", "activity", "agent"}) {
      if (!doc.contains(section)) continue;
      for (const auto& kv : doc.at(section).as_object()) {
        check_qname(kv.key(), section);
        for (const auto& attr : kv.value().as_object()) check_qname(attr.key(), kv.key());
      }
    }
    for (const std::string& section : kRelations) {
      if (!doc.contains(section)) continue;
      for (const auto& kv : doc.at(section).as_object()) {
        EXPECT_TRUE(kv.key().starts_with("_:")) << kv.key();
        EXPECT_TRUE(relation_ids.insert(std::string(kv.key())).second)
            << "relation id used twice: " << kv.key();
        for (const auto& attr : kv.value().as_object()) {
          check_qname(attr.key(), kv.key());
          auto ref = kReferences.find(std::string(attr.key()));
          if (ref == kReferences.end()) continue;
          EXPECT_TRUE(attr.value().is_string()) << kv.key() << " " << attr.key();
          if (!attr.value().is_string()) continue;
          std::string target(attr.value().as_string());
          EXPECT_TRUE(doc.contains(ref->second) && doc.at(ref->second).as_object().contains(target))
              << section << " " << kv.key() << " refers to undeclared " << ref->second << " "
              << target;
        }
      }
    }
    return doc;
  }
};

std::size_t Count(const json::object& doc, std::string_view section) {
  return doc.contains(section) ? doc.at(section).as_object().size() : 0;
}

TEST_P(HttpProvenanceTest, ExportsEntitiesActivitiesAgentsAndRelations) {
  // A generated image (pixverse) -> video by a job (two outputs of the same job) -> an
  // extension without a job; and a transition between two keyframes of the first video.
  std::int64_t image = Make(alice_, std::nullopt, std::nullopt, "pixverse", MediaType::kImage);
  std::int64_t video = Make(alice_, 10, 24, "pixverse");
  std::int64_t take2 = Make(alice_, 10, 24, "pixverse");
  std::int64_t extended = Make(alice_, 15, 24, "runway");
  std::int64_t transition = Make(alice_, 3, 24);
  ASSERT_EQ(
      Post(Batch({
               Edge(video, image, R"("operation_type":"image_to_video","operation_job_id":77)"),
               Edge(take2, image, R"("operation_type":"image_to_video","operation_job_id":77)"),
               Edge(extended, video, R"("operation_type":"video_extend","parent_start_time":9)"),
               Edge(transition, video,
                    R"("parent_role":"transition_from","parent_frame":10,"sequence_order":0,)"
                    R"("operation_type":"video_transition")"),
               Edge(transition, video,
                    R"("parent_role":"transition_to","parent_frame":200,"sequence_order":1,)"
                    R"("operation_type":"video_transition")"),
           }))
          .status,
      201);

  json::object doc = CheckedProvenance(video);
  // Both directions: the image above, both children below; not take2 (a sibling).
  const json::object& entities = doc.at("entity").as_object();
  std::set<std::string> names;
  for (const auto& kv : entities) names.insert(std::string(kv.key()));
  auto asset = [](std::int64_t id) { return "asset:" + std::to_string(id); };
  EXPECT_EQ(names, (std::set<std::string>{asset(image), asset(video), asset(extended),
                                          asset(transition)}));
  const json::object& v = entities.at(asset(video)).as_object();
  EXPECT_EQ(v.at("prov:type"),
            (json::value{{"$", "pixvault:video"}, {"type", "prov:QUALIFIED_NAME"}}));
  EXPECT_EQ(v.at("pixvault:created_at").at("type"), "xsd:dateTime");
  EXPECT_TRUE(v.at("pixvault:created_at").at("$").as_string().ends_with("Z"));
  EXPECT_EQ(v.at("pixvault:sha256").as_string().size(), 64u);
  EXPECT_EQ(v.at("pixvault:mime_type"), "video/mp4");
  EXPECT_TRUE(v.at("prov:label").is_string());

  // Activities: the job, the extension and the transition (two edges, one activity).
  const json::object& activities = doc.at("activity").as_object();
  EXPECT_EQ(activities.size(), 3u);
  ASSERT_TRUE(activities.contains("job:77"));
  EXPECT_EQ(activities.at("job:77").at("prov:type").at("$"), "pixvault:image_to_video");
  EXPECT_TRUE(activities.contains("op:" + std::to_string(extended) + "-video_extend"));
  EXPECT_TRUE(activities.contains("op:" + std::to_string(transition) + "-video_transition"));

  // One derivation and one usage per edge (4 edges visible from `video`), one generation per
  // (activity, child), one attribution per entity.
  EXPECT_EQ(Count(doc, "wasDerivedFrom"), 4u);
  EXPECT_EQ(Count(doc, "used"), 4u);
  EXPECT_EQ(Count(doc, "wasGeneratedBy"), 3u);
  EXPECT_EQ(Count(doc, "wasAttributedTo"), 4u);
  std::set<std::string> roles;
  for (const auto& kv : doc.at("used").as_object()) {
    roles.insert(std::string(kv.value().at("prov:role").at("$").as_string()));
  }
  EXPECT_TRUE(roles.count("pixvault:transition_from") && roles.count("pixvault:transition_to"));

  // Agents: alice, and the providers that generated the children (pixverse for the job's
  // output, runway for the extension); not the transition's (a user upload).
  const json::object& agents = doc.at("agent").as_object();
  EXPECT_TRUE(agents.contains("user:" + std::to_string(alice_.id)));
  EXPECT_TRUE(agents.contains("provider:pixverse"));
  EXPECT_TRUE(agents.contains("provider:runway"));
  EXPECT_EQ(agents.size(), 3u);
  EXPECT_EQ(agents.at("provider:runway").at("prov:type").at("$"), "prov:SoftwareAgent");
  // The job is associated with alice and pixverse; the transition with alice only.
  std::map<std::string, std::set<std::string>> associated;
  for (const auto& kv : doc.at("wasAssociatedWith").as_object()) {
    associated[std::string(kv.value().at("prov:activity").as_string())].insert(
        std::string(kv.value().at("prov:agent").as_string()));
  }
  EXPECT_EQ(associated["job:77"],
            (std::set<std::string>{"user:" + std::to_string(alice_.id), "provider:pixverse"}));
  EXPECT_EQ(associated["op:" + std::to_string(transition) + "-video_transition"].size(), 1u);

  // depth=1 from the extension reaches only its parent.
  json::object near = CheckedProvenance(extended, "?depth=1");
  EXPECT_EQ(Count(near, "entity"), 2u);
  EXPECT_EQ(Count(near, "wasDerivedFrom"), 1u);
  // An asset without lineage: one entity, its owner, no activity.
  std::int64_t alone = Make(alice_);
  json::object single = CheckedProvenance(alone);
  EXPECT_EQ(Count(single, "entity"), 1u);
  EXPECT_EQ(Count(single, "activity"), 0u);
  EXPECT_EQ(Count(single, "wasAttributedTo"), 1u);
}

TEST_P(HttpProvenanceTest, OpenApiDescribesTheLineageRoutes) {
  HttpResponse res = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(res.status, 200);
  json::value doc = ParseJson(res.body);
  const json::object& paths = doc.at("paths").as_object();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/api/v1/lineage", "post"},
      {"/api/v1/lineage/{edge_id}", "delete"},
      {"/api/v1/assets/{id}/parents", "get"},
      {"/api/v1/assets/{id}/children", "get"},
      {"/api/v1/assets/{id}/lineage", "get"},
      {"/api/v1/assets/{id}/provenance", "get"},
  };
  for (const auto& [path, method] : routes) {
    ASSERT_TRUE(paths.contains(path)) << path;
    EXPECT_TRUE(paths.at(path).as_object().contains(method)) << method << " " << path;
  }
  // Every schema reference in the document resolves.
  const json::object& schemas = doc.at("components").at("schemas").as_object();
  std::function<void(const json::value&)> walk = [&](const json::value& v) {
    if (v.is_object()) {
      for (const auto& kv : v.as_object()) {
        if (kv.key() == "$ref") {
          std::string ref(kv.value().as_string());
          const std::string head = "#/components/schemas/";
          ASSERT_TRUE(ref.starts_with(head)) << ref;
          EXPECT_TRUE(schemas.contains(ref.substr(head.size()))) << ref;
        } else {
          walk(kv.value());
        }
      }
    } else if (v.is_array()) {
      for (const auto& e : v.as_array()) walk(e);
    }
  };
  walk(doc);
  EXPECT_TRUE(schemas.contains("LineageEdgeInput"));
  EXPECT_TRUE(schemas.contains("ProvDocument"));
}

}  // namespace

PV_INSTANTIATE_STORE_TEST(HttpProvenanceTest);

}  // namespace pixvault::http::testing
