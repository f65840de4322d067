// Test-only: HttpTest plus helpers for lineage: assets made directly in the store (with a
// duration and fps to check times and frames against), edge bodies, and edge counts.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "http/http_fixture.h"

namespace pixvault::http::testing {

class HttpLineageTest : public HttpTest {
 protected:
  // An asset created directly in the store (no bytes needed for lineage): a video of
  // `duration` seconds at `fps` unless those are absent.
  std::int64_t Make(const User& owner, std::optional<double> duration = 10,
                    std::optional<double> fps = 24, std::string provider = "user_upload",
                    MediaType type = MediaType::kVideo) {
    Asset a;
    a.user_id = owner.id;
    a.media_type = type;
    a.duration_sec = duration;
    a.fps = fps;
    a.provider_id = std::move(provider);
    a.mime_type = type == MediaType::kVideo ? "video/mp4" : "image/png";
    a.description = "asset " + std::to_string(++made_);
    a.sha256 = Sha256Hex("lineage-" + std::to_string(made_));
    auto created = store_->CreateAsset(a, storage::BlobRef{*a.sha256, 1, "local", {}});
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created ? created->asset.id : 0;
  }
  std::int64_t Image(const User& owner) {
    return Make(owner, std::nullopt, std::nullopt, "user_upload", MediaType::kImage);
  }

  static std::string Edge(std::int64_t child, std::int64_t parent, std::string extra = "") {
    return "{\"child_asset_id\":" + std::to_string(child) +
           ",\"parent_asset_id\":" + std::to_string(parent) + (extra.empty() ? "" : ",") + extra +
           "}";
  }
  static std::string Batch(const std::vector<std::string>& edges) {
    std::string out = "{\"edges\":[";
    for (std::size_t i = 0; i < edges.size(); ++i) out += (i ? "," : "") + edges[i];
    return out + "]}";
  }

  HttpResponse Post(std::string body, std::string_view key = {}) {
    return Call("POST", "/api/v1/lineage", key.empty() ? alice_key_ : key, std::move(body),
                {{"Content-Type", "application/json"}});
  }
  // POSTs `body`, expecting `status` and a problem with `code`.
  void ExpectRefused(const std::string& body, int status, std::string_view code,
                     std::string_view key = {}) {
    HttpResponse res = Post(body, key);
    EXPECT_EQ(res.status, status) << body << " -> " << res.body;
    EXPECT_EQ(res.ProblemCode(), code) << body;
  }
  boost::json::value Get(const std::string& target, std::string_view key = {}) {
    HttpResponse res = Call("GET", target, key.empty() ? alice_key_ : key);
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return ParseJson(res.body);
  }
  // Number of edges in the whole database, seen by the admin (with adult content or not,
  // the test assets are not restricted).
  std::size_t AllEdges(const std::vector<std::int64_t>& assets) {
    std::set<std::int64_t> ids;
    for (std::int64_t a : assets) {
      auto parents = store_->ListParents(Viewer{0, true, true}, a);
      EXPECT_TRUE(parents.has_value());
      if (parents) {
        for (const auto& e : *parents) ids.insert(e.id);
      }
    }
    return ids.size();
  }

  int made_ = 0;
};

inline std::int64_t Int(const boost::json::value& v, std::string_view key) {
  return v.at(key).to_number<std::int64_t>();
}

}  // namespace pixvault::http::testing
