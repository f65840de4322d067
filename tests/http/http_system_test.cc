// The real server end to end: service routes, the OpenAPI document, authentication, and
// request paths that must be refused before any handler runs.
#include <boost/json.hpp>

#include <cctype>

#include "http/http_fixture.h"

namespace pixvault::http::testing {
namespace {

class HttpSystemTest : public HttpTest {};

TEST_P(HttpSystemTest, HealthAndReadinessAnswerWithoutAuthentication) {
  HttpResponse health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(ParseJson(health.body), (boost::json::value{{"status", "ok"}}));

  HttpResponse ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ParseJson(ready.body), (boost::json::value{{"status", "ready"}}));
}

TEST_P(HttpSystemTest, HeadOfAJsonRouteSendsHeadersOnly) {
  PV_ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(port()));
  HttpRequest head{"HEAD", "/healthz", {}, {}, {}};
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse res, c.RoundTrip(head));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("Content-Length").value_or(""), "15");  // {"status":"ok"}
  // Had a body followed, this second response would not parse.
  PV_ASSERT_OK_AND_ASSIGN(HttpResponse next,
                          c.RoundTrip(HttpRequest{"GET", "/healthz", {}, {}, {}}));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, R"({"status":"ok"})");
}

TEST_P(HttpSystemTest, MetricsCountRequestsByRouteAndStatus) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/assets").status, 401);
  EXPECT_EQ(Call("GET", "/nowhere").status, 404);
  HttpResponse m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_TRUE(m.Header("Content-Type").value_or("").starts_with("text/plain"));
  EXPECT_NE(m.body.find("# TYPE pixvault_http_requests_total counter"), std::string::npos);
  EXPECT_NE(m.body.find(R"(pixvault_http_requests_total{route="healthz",status="200"} 1)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find(R"(pixvault_http_requests_total{route="listAssets",status="401"} 1)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find(R"(pixvault_http_requests_total{route="unmatched",status="404"} 1)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("pixvault_jobs{state="), std::string::npos) << m.body;
}

TEST_P(HttpSystemTest, OpenApiDocumentDescribesEveryRoute) {
  HttpResponse res = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("Content-Type").value_or(""), "application/json");
  boost::json::value doc = ParseJson(res.body);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  ASSERT_FALSE(router_.routes().empty());
  for (const Route& route : router_.routes()) {
    std::string method = route.method;
    for (char& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* item = paths.if_contains(route.pattern);
    ASSERT_NE(item, nullptr) << route.pattern << " is missing from paths";
    const auto* op = item->as_object().if_contains(method);
    ASSERT_NE(op, nullptr) << route.method << " " << route.pattern << " is missing";
    EXPECT_EQ(op->at("operationId"), route.name.c_str());
    EXPECT_TRUE(op->as_object().contains("responses")) << route.name;
    EXPECT_EQ(op->as_object().contains("security"), route.auth) << route.name;
    // Every {param} of the pattern is documented as a required path parameter.
    for (std::size_t open = route.pattern.find('{'); open != std::string::npos;
         open = route.pattern.find('{', open + 1)) {
      std::string name = route.pattern.substr(open + 1, route.pattern.find('}', open) - open - 1);
      bool found = false;
      if (const auto* params = op->as_object().if_contains("parameters")) {
        for (const auto& p : params->as_array()) {
          if (p.at("name") == name.c_str() && p.at("in") == "path" && p.at("required") == true) {
            found = true;
          }
        }
      }
      EXPECT_TRUE(found) << route.name << " does not document path parameter " << name;
    }
  }
  // Every schema referenced exists.
  const auto& schemas = doc.at("components").at("schemas").as_object();
  std::string text = res.body;
  const std::string ref = "#/components/schemas/";
  for (std::size_t at = text.find(ref); at != std::string::npos; at = text.find(ref, at + 1)) {
    std::size_t begin = at + ref.size();
    std::string name = text.substr(begin, text.find('"', begin) - begin);
    EXPECT_TRUE(schemas.contains(name)) << "dangling $ref " << name;
  }
}

TEST_P(HttpSystemTest, RequestsWithoutAValidKeyAreUnauthorized) {
  const std::vector<std::string> refused = {
      "",                                    // no header at all (see below)
      "Bearer pxv_" + std::string(43, 'A'),  // well-formed, unknown
      "Bearer " + alice_key_ + "x",          // a valid key with a byte too many
      "Basic YWxpY2U6c2VjcmV0",              // another scheme
      "Bearer",                              // no key
      "Bearer  " + alice_key_,               // two spaces
      alice_key_,                            // no scheme
  };
  for (const std::string& value : refused) {
    std::vector<Header> headers;
    if (!value.empty()) headers.emplace_back("Authorization", value);
    HttpResponse res = Call("GET", "/api/v1/assets", {}, {}, headers);
    EXPECT_EQ(res.status, 401) << value;
    EXPECT_EQ(res.ProblemCode(), "unauthorized") << value;
    EXPECT_EQ(res.Header("WWW-Authenticate").value_or(""), "Bearer") << value;
    boost::json::value problem = ParseJson(res.body);
    ASSERT_TRUE(problem.is_object());
    EXPECT_EQ(problem.at("status"), 401);
    EXPECT_EQ(problem.at("title"), "Unauthorized");
    EXPECT_TRUE(problem.as_object().contains("type"));
    EXPECT_TRUE(problem.as_object().contains("detail"));
  }
  for (const std::string& key : {alice_key_, bob_key_, admin_key_}) {
    HttpResponse ok = Call("GET", "/api/v1/assets", key);
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ParseJson(ok.body).at("items").as_array().size(), 0u);
  }
}

TEST_P(HttpSystemTest, MalformedPathsAreBadRequests) {
  for (const char* target : {
           "/api/v1/assets/..",
           "/api/v1/assets/.",
           "/api/v1/assets/%2E%2E",
           "/api/v1/../healthz",
           "/api/v1/assets/1%2Ffile",
           "/api/v1/assets%2F1",
           "/api/v1/assets/%zz",
           "/api/v1/assets/%4",
           "/api/v1/assets/%",
           "/api/v1/assets/1%00",
           "/api/v1/assets?tag=%zz",
           "/api/v1/assets?tag=%",
           "*",
           "http://example.com/healthz",
       }) {
    HttpResponse res = Call("GET", target, alice_key_);
    EXPECT_EQ(res.status, 400) << target << ": " << res.body;
  }
}

TEST_P(HttpSystemTest, UnknownRoutesAreNotFoundAndWrongMethodsNotAllowed) {
  HttpResponse missing = Call("GET", "/api/v1/nothing-here", alice_key_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.ProblemCode(), "route_not_found");
  EXPECT_EQ(Call("GET", "/api/v1/assets/1/file/extra", alice_key_).status, 404);
  EXPECT_EQ(Call("GET", "/", alice_key_).status, 404);

  HttpResponse put = Call("PUT", "/api/v1/assets/1", alice_key_, "{}");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.ProblemCode(), "method_not_allowed");
  std::string allow = put.Header("Allow").value_or("");
  EXPECT_NE(allow.find("GET"), std::string::npos) << allow;
  EXPECT_NE(allow.find("PATCH"), std::string::npos) << allow;
  EXPECT_NE(allow.find("DELETE"), std::string::npos) << allow;

  HttpResponse post = Call("POST", "/healthz", {}, "x");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("Allow").value_or(""), "GET");
  HttpResponse get_upload = Call("GET", "/api/v1/assets/upload", alice_key_);
  // "upload" is not an id: GET /api/v1/assets/{id} answers, not the POST route.
  EXPECT_EQ(get_upload.status, 404);
}

TEST_P(HttpSystemTest, ProblemDetailsAreValidJsonWhateverTheClientSent) {
  // Details quote the request (a decoded path, a parameter name); the body must stay valid
  // JSON, so valid UTF-8, whatever bytes those decode to. Call() parses every JSON body.
  EXPECT_EQ(Call("GET", "/nowhere%FF%FE", alice_key_).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/assets/upload?%FF=1", alice_key_, "x").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/assets?media_type=%C3%28", alice_key_).status, 400);
}

TEST_P(HttpSystemTest, IdsThatCannotExistAreNotFound) {
  for (const char* id :
       {"abc", "0", "-1", "1.5", "99999999999999999999", "9223372036854775807", "%201", "1e3"}) {
    std::string target = std::string("/api/v1/assets/") + id;
    EXPECT_EQ(Call("GET", target, alice_key_).status, 404) << target;
    EXPECT_EQ(Call("GET", target + "/file", alice_key_).status, 404) << target;
    EXPECT_EQ(Call("DELETE", target, alice_key_).status, 404) << target;
    EXPECT_EQ(Call("PATCH", target, alice_key_, "{}").status, 404) << target;
  }
}

TEST_P(HttpSystemTest, ABodyOnARouteThatTakesNoneIsRefused) {
  HttpResponse res = Call("GET", "/api/v1/assets", alice_key_, "unexpected");
  EXPECT_GE(res.status, 400);
  EXPECT_LT(res.status, 500);
}

PV_INSTANTIATE_STORE_TEST(HttpSystemTest);

}  // namespace
}  // namespace pixvault::http::testing
