// bundle_http_bench: the bundle export target of issue 4 (10,000 nodes, 3 variants per branch
// point, at most 200 ms) through the real HTTP API.
//
// Builds a branch graph through the Store (the code paths the routes use): a tree of N video
// assets where asset k has one manual branch point whose 3 variants lead to assets 3k+1..3k+3,
// each variant with a condition and an effect on a declared state variable. Starts the real
// HTTP server in-process on a loopback port and times GET /api/v1/assets/{root}/bundle over one
// keep-alive connection (auth, the recursive walk and the per-kind reads, JSON, the runtime's
// lenient load and validation, transfer). Beside it: service::ExportBundle called in-process
// and Store::LoadBranchGraph alone, so the share of the database is visible.
// Prints a Markdown table; targets are reported, never asserted.
//
// Usage: bundle_http_bench --db URL [--nodes N] [--iterations N] [--warmup N]
//                          [--markdown FILE] [--title TEXT]
#include <malloc.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "bench/bench_util.h"
#include "blob/blob_store.h"
#include "blob/env.h"
#include "core/sha256.h"
#include "http/api.h"
#include "http/http_client.h"  // tests/http: the small blocking client the HTTP tests use
#include "http/server.h"
#include "service/auth.h"
#include "service/bundle.h"
#include "service/ingest.h"
#include "storage/migrations/migrator.h"
#include "storage/sql_store.h"

namespace pixvault::bench {
namespace {

using storage::SqlStore;

constexpr double kTargetMs = 200;
constexpr int kVariantsPerBranch = 3;

struct Options {
  std::string db;
  std::int64_t nodes = 10'000;
  int iterations = 30;
  int warmup = 3;
  std::string markdown_path, title;
};

struct Graph {
  AssetId root = 0;
  std::int64_t branches = 0, variants = 0;
};

// The tree described above, through the Store; progress on stderr.
Result<Graph> BuildGraph(SqlStore& store, const User& user, std::int64_t n) {
  const Viewer me = Viewer::For(user);
  StateVariable coins;
  coins.user_id = user.id;
  coins.name = "coins";
  coins.type = "int";
  coins.initial_value = "0";
  PV_RETURN_IF_ERROR(store.PutStateVariable(me, coins));
  std::vector<AssetId> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    Asset a;
    a.user_id = user.id;
    a.media_type = MediaType::kVideo;
    a.duration_sec = 8;
    a.fps = 24;
    a.width = 1280;
    a.height = 720;
    a.mime_type = "video/mp4";
    a.file_size_bytes = 4'000'000 + k;
    a.media_metadata = R"({"format":"mp4","video_codec":"h264","pixel_format":"yuv420p"})";
    a.sha256 = Sha256Hex("bundle-bench-" + std::to_string(k));
    PV_ASSIGN_OR_RETURN(
        auto created,
        store.CreateAsset(a, storage::BlobRef{*a.sha256, *a.file_size_bytes, "local", {}}));
    ids.push_back(created.asset.id);
  }
  std::cerr << "bundle_http_bench:   " << n << " assets\n";
  Graph g;
  g.root = ids.front();
  // Asset k branches to the next kVariantsPerBranch unattached assets (the last branch point
  // to fewer when n - 1 is not a multiple), so that every asset is in the tree.
  for (std::int64_t k = 0; kVariantsPerBranch * k + 1 < n; ++k) {
    Branch b;
    b.source_asset_id = ids[static_cast<std::size_t>(k)];
    b.branch_time = 6;
    b.show_at = 4;
    b.branch_name = "choice " + std::to_string(k);
    PV_ASSIGN_OR_RETURN(Branch branch, store.CreateBranch(me, b));
    ++g.branches;
    for (int j = 1; j <= kVariantsPerBranch && kVariantsPerBranch * k + j < n; ++j) {
      BranchVariant v;
      v.branch_id = branch.id;
      v.variant_asset_id = ids[static_cast<std::size_t>(kVariantsPerBranch * k + j)];
      v.variant_name = "way " + std::to_string(j);
      v.weight = j;
      v.conditions = R"({"ge":["coins",)" + std::to_string(j - 1) + "]}";
      v.effects = R"([{"add":"coins","value":1}])";
      PV_RETURN_IF_ERROR(store.CreateVariant(me, v));
      ++g.variants;
    }
  }
  std::cerr << "bundle_http_bench:   " << g.branches << " branch points, " << g.variants
            << " variants\n";
  return g;
}

// 200 with the whole tree and a clean validation, else an error naming what is wrong.
Status CheckBundle(std::string_view body, std::int64_t nodes) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return Fail(ErrorCode::kInternal, "the bundle is not JSON");
  const std::size_t got = v.at("nodes").as_array().size();
  if (got != static_cast<std::size_t>(nodes)) {
    return Fail(ErrorCode::kInternal,
                "expected " + std::to_string(nodes) + " nodes, got " + std::to_string(got));
  }
  if (!v.at("validation").at("ok").as_bool()) {
    return Fail(ErrorCode::kInternal,
                "validation issues: " + boost::json::serialize(v.at("validation")).substr(0, 300));
  }
  return Ok();
}

Status Main(const Options& o) {
  // The allocator settings `pixvault serve` uses (src/app/serve.cc).
  (void)mallopt(M_TRIM_THRESHOLD, 16 << 20);
  (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
  SystemClock clock;
  PV_ASSIGN_OR_RETURN(auto setup_db, storage::sql::OpenDatabase(o.db));
  {
    storage::Migrator migrator(*setup_db, clock);
    PV_RETURN_IF_ERROR(migrator.Upgrade());
  }
  SqlStore store(std::move(setup_db), clock);
  if (store.GetUserByName("bundle-bench")) {
    return Fail(ErrorCode::kAlreadyExists, "the database already holds a bundle bench graph");
  }
  PV_ASSIGN_OR_RETURN(User user, store.CreateUser(User{0, "bundle-bench", false, false, 0}));
  std::cerr << "bundle_http_bench: building a tree of " << o.nodes << " nodes in " << o.db << "\n";
  auto load_start = Clock::now();
  PV_ASSIGN_OR_RETURN(Graph graph, BuildGraph(store, user, o.nodes));
  const double load_s = MsSince(load_start) / 1000;
  // Statistics, as autovacuum (PostgreSQL) or an `ANALYZE` would have gathered by now.
  Status analyzed = store.database().Read(
      [](storage::sql::Connection& c) -> Status { return c.Query("ANALYZE").map([](auto&&) {}); });
  PV_RETURN_IF_ERROR(analyzed);

  PV_ASSIGN_OR_RETURN(auto issued, service::IssueApiKey(store, user.id, "bundle bench"));

  // The server side, wired as `pixvault serve` does.
  storage::sql::DatabaseOptions server_db_options;
  server_db_options.pool_size = 16;  // serve's default db_connections
  PV_ASSIGN_OR_RETURN(auto server_db, storage::sql::OpenDatabase(o.db, server_db_options));
  SqlStore server_store(std::move(server_db), clock);
  blob::PosixEnv env;
  char tmpl[] = "/tmp/bundle-bench-blobs.XXXXXX";
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

  std::vector<double> api_ms, export_ms, graph_ms;
  std::size_t bytes = 0;
  auto measure = [&]() -> Status {
    PV_ASSIGN_OR_RETURN(auto conn, http::testing::Connection::Open(server.port()));
    conn.set_timeout(std::chrono::seconds(60));
    http::testing::HttpRequest req;
    req.target = "/api/v1/assets/" + std::to_string(graph.root) + "/bundle";
    req.headers = {{"Authorization", "Bearer " + issued.second}};
    for (int i = -o.warmup; i < o.iterations; ++i) {
      auto start = Clock::now();
      PV_ASSIGN_OR_RETURN(auto res, conn.RoundTrip(req));
      const double ms = MsSince(start);
      if (res.status != 200) {
        return Fail(ErrorCode::kInternal,
                    "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 300));
      }
      // Every answer is checked, outside the timed region.
      PV_RETURN_IF_ERROR(CheckBundle(res.body, o.nodes));
      if (i >= 0) api_ms.push_back(ms);
      bytes = res.body.size();
    }
    const Viewer me = Viewer::For(user);
    for (int i = -o.warmup; i < o.iterations; ++i) {
      auto start = Clock::now();
      PV_ASSIGN_OR_RETURN(auto bundle,
                          service::ExportBundle(server_store, me, graph.root, {}, clock.Now()));
      if (i >= 0) export_ms.push_back(MsSince(start));
      if (bundle.node_count != static_cast<std::size_t>(o.nodes)) {
        return Fail(ErrorCode::kInternal, "ExportBundle returned a partial graph");
      }
      start = Clock::now();
      PV_ASSIGN_OR_RETURN(auto g, server_store.LoadBranchGraph(me, graph.root, 100'000));
      if (i >= 0) graph_ms.push_back(MsSince(start));
      if (g.variants.size() != static_cast<std::size_t>(graph.variants)) {
        return Fail(ErrorCode::kInternal, "LoadBranchGraph returned a partial graph");
      }
    }
    return Ok();
  };
  Status status = measure();
  server.Stop();
  std::error_code ec;
  std::filesystem::remove_all(blob_root, ec);
  PV_RETURN_IF_ERROR(status);

  const Stats api_s = Summarize(api_ms), export_s = Summarize(export_ms),
              graph_s = Summarize(graph_ms);
  std::ostringstream md;
  md << "### " << (o.title.empty() ? o.db : o.title) << "\n\n"
     << Thousands(o.nodes) << " nodes, " << Thousands(graph.branches) << " branch points, "
     << Thousands(graph.variants) << " variants (built through the Store in " << Fixed(load_s, 1)
     << " s, then analyzed); the bundle is "
     << Fixed(static_cast<double>(bytes) / (1024.0 * 1024.0), 1) << " MiB. " << o.iterations
     << " timed exports after " << o.warmup << " warm-up ones; times in ms.\n\n"
     << "| Export | p50 | p95 | mean | target (p50) | result |\n"
     << "|---|---:|---:|---:|---:|---|\n"
     << "| GET /api/v1/assets/{root}/bundle, one keep-alive connection | " << Fixed(api_s.p50, 1)
     << " | " << Fixed(api_s.p95, 1) << " | " << Fixed(api_s.mean, 1)
     << " | <= " << Fixed(kTargetMs, 0) << " | " << (api_s.p50 <= kTargetMs ? "PASS" : "**FAIL**")
     << " |\n"
     << "| service::ExportBundle in-process (no HTTP) | " << Fixed(export_s.p50, 1) << " | "
     << Fixed(export_s.p95, 1) << " | " << Fixed(export_s.mean, 1) << " | | |\n"
     << "| of which Store::LoadBranchGraph (the database reads) | " << Fixed(graph_s.p50, 1)
     << " | " << Fixed(graph_s.p95, 1) << " | " << Fixed(graph_s.mean, 1) << " | | |\n\n";
  std::cout << md.str();
  if (!o.markdown_path.empty()) std::ofstream(o.markdown_path) << md.str();
  return Ok();
}

}  // namespace
}  // namespace pixvault::bench

int main(int argc, char** argv) {
  using pixvault::bench::Options;
  Options o;
  auto usage = [] {
    std::cerr << "usage: bundle_http_bench --db URL [--nodes N] [--iterations N] [--warmup N] "
                 "[--markdown FILE] [--title TEXT]\n";
    return 2;
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], value = argv[i + 1];
    try {
      if (a == "--db") {
        o.db = value;
      } else if (a == "--nodes") {
        o.nodes = std::stoll(value);
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
  if (argc % 2 == 0 || o.db.empty() || o.nodes < 1 || o.iterations < 1 || o.warmup < 0) {
    return usage();
  }
  auto st = pixvault::bench::Main(o);
  if (!st) {
    std::cerr << "bundle_http_bench: " << st.error().message << "\n";
    return 1;
  }
  return 0;
}
