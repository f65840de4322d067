// lineage_http_bench: the lineage target of issue 4 through the real HTTP API.
//
// Loads a synthetic catalogue with a lineage DAG (synthetic_catalog.h: chains of 51 assets
// plus cross-chain "reference" edges) into one database, starts the real HTTP server
// in-process on a loopback port (the routes, auth and store the `serve` command wires), and
// times GET /api/v1/assets/{id}/lineage?direction=ancestors|descendants&depth=50 from a
// blocking socket client over one keep-alive connection: request, routing, Bearer auth, the
// recursive walk, the batch read of node summaries, JSON rendering and transfer.
// Beside it, the very recursive statement the store runs for that walk (recorded through a
// RecordingDatabase, not a hand-written copy) is replayed through the sql layer.
// Prints a Markdown table; targets are reported, never asserted.
//
// Usage: lineage_http_bench --db URL [--edges N] [--assets N] [--iterations N] [--warmup N]
//                           [--reuse] [--markdown FILE] [--title TEXT]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "bench/bench_util.h"
#include "bench/recording_database.h"
#include "bench/synthetic_catalog.h"
#include "blob/blob_store.h"
#include "blob/env.h"
#include "http/api.h"
#include "http/http_client.h"  // tests/http: the small blocking client the HTTP tests use
#include "http/server.h"
#include "service/auth.h"
#include "service/ingest.h"
#include "storage/migrations/migrator.h"
#include "storage/sql_store.h"

namespace pixvault::bench {
namespace {

using storage::SqlStore;
using storage::sql::Connection;

constexpr double kTargetMs = 10;
constexpr std::int64_t kDepth = 50;
constexpr std::string_view kUserName = "lineage-bench";

struct Options {
  std::string db;
  CatalogShape shape;
  bool assets_given = false;
  int iterations = 200;
  int warmup = 20;
  bool reuse = false;
  std::string markdown_path, title;
};

// One walk direction: `start(i)` is the asset the i-th call starts from.
struct Case {
  std::string label;
  LineageDirection direction;
  std::function<AssetId(int)> start;
};

struct Measured {
  std::string label, result;
  Stats api, sql;
  int calls = 0;
};

// Checks one API answer: 200, and the walk reaches depth 50. Returns "N nodes, M edges".
Result<std::string> CheckGraph(const http::testing::HttpResponse& res) {
  if (res.status != 200) {
    return Fail(ErrorCode::kInternal,
                "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 300));
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(res.body, ec);
  if (ec || !v.is_object()) return Fail(ErrorCode::kInternal, "the answer is not JSON");
  std::int64_t depth = 0;
  for (const auto& e : v.at("edges").as_array()) {
    depth = std::max(depth, e.at("depth").to_number<std::int64_t>());
  }
  if (depth != kDepth) {
    return Fail(ErrorCode::kInternal, "expected a walk to depth 50, got " + std::to_string(depth));
  }
  return std::to_string(v.at("nodes").as_array().size()) + " nodes, " +
         std::to_string(v.at("edges").as_array().size()) + " edges";
}

Result<Measured> Measure(const Case& c, std::uint16_t port, const std::string& key,
                         SqlStore& recorder_store, RecordingDatabase& rec, const Viewer& viewer,
                         const Options& o) {
  Measured m;
  m.label = c.label;
  PV_ASSIGN_OR_RETURN(auto conn, http::testing::Connection::Open(port));
  const std::string dir = c.direction == LineageDirection::kAncestors ? "ancestors" : "descendants";
  std::vector<double> api_ms;
  for (int i = -o.warmup; i < o.iterations; ++i) {
    http::testing::HttpRequest req;
    req.target = "/api/v1/assets/" + std::to_string(c.start(i < 0 ? i + o.warmup : i)) +
                 "/lineage?direction=" + dir + "&depth=" + std::to_string(kDepth);
    req.headers = {{"Authorization", "Bearer " + key}};
    auto start = Clock::now();
    PV_ASSIGN_OR_RETURN(auto res, conn.RoundTrip(req));
    const double ms = MsSince(start);
    if (i >= 0) api_ms.push_back(ms);
    // Checked outside the timed region; every answer, so a fast wrong answer cannot pass.
    PV_ASSIGN_OR_RETURN(std::string result, CheckGraph(res));
    if (i == 0) m.result = result;
  }
  m.api = Summarize(api_ms);
  m.calls = o.iterations;

  // The recursive statement of each timed call's walk, recorded once, then replayed.
  std::vector<RecordedStatement> walks;
  for (int i = 0; i < o.iterations; ++i) {
    rec.Start();
    auto walked = recorder_store.WalkLineage(viewer, c.start(i), c.direction, kDepth);
    auto statements = rec.Stop();
    if (!walked) return Fail(walked.error());
    for (auto& s : statements) {
      if (s.sql.find("WITH RECURSIVE") != std::string::npos) walks.push_back(std::move(s));
    }
  }
  if (walks.size() != static_cast<std::size_t>(o.iterations)) {
    return Fail(ErrorCode::kInternal, "expected one recursive statement per walk");
  }
  std::vector<double> sql_ms;
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms the connection's cache
    sql_ms.clear();
    for (const auto& s : walks) {
      auto start = Clock::now();
      Status replayed = rec.Read([&](Connection& sql_conn) -> Status {
        PV_RETURN_IF_ERROR(sql_conn.Query(s.sql, s.params));
        return Ok();
      });
      if (!replayed) return Fail(replayed.error());
      sql_ms.push_back(MsSince(start));
    }
  }
  m.sql = Summarize(sql_ms);
  return m;
}

void WriteReport(const Options& o, const CatalogInfo& info, double load_s,
                 const std::vector<Measured>& results) {
  std::ostringstream md;
  md << "### " << (o.title.empty() ? o.db : o.title) << "\n\n"
     << Thousands(info.assets) << " assets, " << Thousands(info.edges) << " lineage edges"
     << (load_s > 0 ? ", loaded in " + Fixed(load_s, 1) + " s" : std::string(" (reused)")) << ". "
     << o.iterations << " timed calls per direction after " << o.warmup
     << " warm-up calls, one keep-alive connection; times in ms.\n\n"
     << "| Query (depth " << kDepth << ") | API p50 | API p95 | API mean | same recursive SQL "
     << "via sql layer, p50 | ratio API / SQL (p50) | target (API p50) | result |\n"
     << "|---|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& m : results) {
    md << "| " << m.label << " (" << m.result << ") | " << Fixed(m.api.p50, 3) << " | "
       << Fixed(m.api.p95, 3) << " | " << Fixed(m.api.mean, 3) << " | " << Fixed(m.sql.p50, 3)
       << " | " << (m.sql.p50 > 0 ? Fixed(m.api.p50 / m.sql.p50) + "x" : "n/a")
       << " | <= " << Fixed(kTargetMs, 0) << " | " << (m.api.p50 <= kTargetMs ? "PASS" : "**FAIL**")
       << " |\n";
  }
  md << "\n";
  std::cout << md.str();
  if (!o.markdown_path.empty()) std::ofstream(o.markdown_path) << md.str();
}

Status Main(const Options& o) {
  SystemClock clock;
  PV_ASSIGN_OR_RETURN(auto setup_db, storage::sql::OpenDatabase(o.db));
  {
    storage::Migrator migrator(*setup_db, clock);
    PV_RETURN_IF_ERROR(migrator.Upgrade());
  }
  SqlStore store(std::move(setup_db), clock);
  double load_s = 0;
  User user;
  if (auto existing = store.GetUserByName(kUserName)) {
    if (!o.reuse) {
      return Fail(ErrorCode::kAlreadyExists,
                  "the database already holds a lineage bench catalogue; use a fresh one or "
                  "--reuse");
    }
    user = *existing;
  } else {
    // allow_adult: the catalogue's age-restricted assets are part of the chains.
    PV_ASSIGN_OR_RETURN(user, store.CreateUser(User{0, std::string(kUserName), false, true, 0}));
    std::cerr << "lineage_http_bench: loading " << o.shape.assets << " assets, " << o.shape.edges
              << " edges into " << o.db << "\n";
    auto start = Clock::now();
    PV_RETURN_IF_ERROR(LoadCatalog(store.database(), user.id, o.shape, [&](const std::string& s) {
      std::cerr << "lineage_http_bench:   " << s << " (" << Fixed(MsSince(start) / 1000, 1)
                << " s)\n";
    }));
    load_s = MsSince(start) / 1000;
  }
  PV_ASSIGN_OR_RETURN(CatalogInfo info, InspectCatalog(store.database(), user.id));
  const std::int64_t full_chains = info.assets / kChainLength;
  if (full_chains < 2) return Fail(ErrorCode::kInvalidArgument, "need at least 2 full chains");
  PV_ASSIGN_OR_RETURN(auto issued, service::IssueApiKey(store, user.id, "lineage bench"));

  // The server side, wired as `pixvault serve` does, over a fresh store (fresh connections
  // see the statistics the load gathered).
  storage::sql::DatabaseOptions server_db_options;
  server_db_options.pool_size = 16;  // serve's default db_connections
  PV_ASSIGN_OR_RETURN(auto server_db, storage::sql::OpenDatabase(o.db, server_db_options));
  SqlStore server_store(std::move(server_db), clock);
  blob::PosixEnv env;
  char tmpl[] = "/tmp/lineage-bench-blobs.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Fail(ErrorCode::kUnavailable, "mkdtemp failed");
  const std::filesystem::path blob_root = tmpl;
  PV_ASSIGN_OR_RETURN(auto blobs, blob::FsBlobStore::Create(env, blob_root));
  service::Ingestor ingestor(server_store, *blobs, clock);
  http::Metrics metrics;
  http::Router router;
  http::ApiContext api{server_store, *blobs, ingestor, clock, metrics, {}};
  http::RegisterRoutes(router, api);
  http::ServerOptions server_options;
  server_options.port = 0;
  server_options.threads = 2;
  // As `pixvault serve` runs with a database server.
  if (storage::IsDatabaseServerUrl(o.db)) {
    server_options.database_threads = server_db_options.pool_size;
  }
  http::Server server(
      router,
      [&](std::string_view header) {
        return service::AuthenticateBearer(server_store, clock, header);
      },
      metrics, server_options);
  PV_RETURN_IF_ERROR(server.Start());

  PV_ASSIGN_OR_RETURN(auto recorder_db, storage::sql::OpenDatabase(o.db));
  auto owned = std::make_unique<RecordingDatabase>(std::move(recorder_db));
  RecordingDatabase& rec = *owned;
  SqlStore recorder_store(std::move(owned), clock);

  // Starts vary over the last (up to) 200 full chains: tips for ancestors, chain roots for
  // descendants; both reach depth 50 along their chain.
  const std::int64_t spread = std::clamp<std::int64_t>(full_chains - 1, 1, 200);
  auto chain_of = [&](int i) { return std::max<std::int64_t>(0, full_chains - 1 - i % spread); };
  const std::vector<Case> cases = {
      {"ancestors", LineageDirection::kAncestors,
       [&](int i) { return info.first_id + chain_of(i) * kChainLength + kChainLength - 1; }},
      {"descendants", LineageDirection::kDescendants,
       [&](int i) { return info.first_id + chain_of(i) * kChainLength; }},
  };
  std::vector<Measured> results;
  Status status = Ok();
  for (const auto& c : cases) {
    std::cerr << "lineage_http_bench: measuring " << c.label << "\n";
    auto m = Measure(c, server.port(), issued.second, recorder_store, rec, Viewer::For(user), o);
    if (!m) {
      status = Fail(m.error());
      break;
    }
    results.push_back(std::move(*m));
  }
  server.Stop();
  std::error_code ec;
  std::filesystem::remove_all(blob_root, ec);
  PV_RETURN_IF_ERROR(status);
  WriteReport(o, info, load_s, results);
  return Ok();
}

}  // namespace
}  // namespace pixvault::bench

int main(int argc, char** argv) {
  using pixvault::bench::Options;
  Options o;
  auto usage = [] {
    std::cerr << "usage: lineage_http_bench --db URL [--edges N] [--assets N] [--iterations N] "
                 "[--warmup N] [--reuse] [--markdown FILE] [--title TEXT]\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reuse") {
      o.reuse = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    try {
      if (a == "--db") {
        o.db = value;
      } else if (a == "--edges") {
        o.shape.edges = std::stoll(value);
      } else if (a == "--assets") {
        o.shape.assets = std::stoll(value);
        o.assets_given = true;
      } else if (a == "--iterations") {
        o.iterations = std::stoi(value);
      } else if (a == "--warmup") {
        o.warmup = std::stoi(value);
      } else if (a == "--markdown") {
        o.markdown_path = value;
      } else if (a == "--title") {
        o.title = value;
      } else {
        return usage();
      }
    } catch (const std::exception&) {
      return usage();
    }
  }
  // As many assets as edges unless told otherwise (the issue's DAG: 1,000,000 edges).
  if (!o.assets_given) o.shape.assets = o.shape.edges;
  if (o.db.empty() || o.iterations < 1 || o.warmup < 0 ||
      o.shape.assets < 3 * pixvault::bench::kChainLength) {
    std::cerr << "lineage_http_bench: --db is required; --iterations >= 1; --assets >= 153\n";
    return 2;
  }
  auto st = pixvault::bench::Main(o);
  if (!st) {
    std::cerr << "lineage_http_bench: " << st.error().message << "\n";
    return 1;
  }
  return 0;
}
