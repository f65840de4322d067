#include "app/serve_config.h"

#include <gtest/gtest.h>

#include <map>

#include "service/cache.h"
#include "testing/temp_dir.h"

namespace pixvault::app {
namespace {

using pixvault::testing::TempDir;
using pixvault::testing::WriteFile;

struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> Getter() {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(ServeConfig, DefaultsListenOnLoopback8080) {
  FakeEnv env;
  auto c = LoadServeConfig({}, env.Getter());
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->data_dir, "./pixvault-data");
}

TEST(ServeConfig, FlagsBeatEnvironmentBeatsFile) {
  TempDir dir;
  WriteFile(dir / "p.toml",
            "listen = \"0.0.0.0:9000\"\nthreads = 3\nmax_connections = 10\n"
            "upload_limit_bytes = 1000\ndata_dir = \"/srv/pv\"\nremote_threads = 7\n"
            "blocking_threads = 2\ndb_connections = 24\n");
  FakeEnv env;
  env.vars["PIXVAULT_THREADS"] = "5";
  env.vars["PIXVAULT_BLOCKING_THREADS"] = "3";
  env.vars["PIXVAULT_MAX_CONNECTIONS"] = "20";
  ServeFlags flags;
  flags.config_file = (dir / "p.toml").string();
  flags.max_connections = 30;
  auto c = LoadServeConfig(flags, env.Getter());
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->server.host, "0.0.0.0");  // file only
  EXPECT_EQ(c->server.port, 9000);
  EXPECT_EQ(c->server.threads, 5);           // environment over file
  EXPECT_EQ(c->server.max_connections, 30);  // flag over environment
  EXPECT_EQ(c->api.upload_limit, 1000);
  EXPECT_EQ(c->data_dir, "/srv/pv");
  EXPECT_EQ(c->server.blocking_threads, 3);  // environment over file
  EXPECT_EQ(c->server.remote_threads, 7);    // file only
  EXPECT_EQ(c->db_connections, 24);          // file only
}

TEST(ServeConfig, ProvidersComeFromTheConfigFileOrTheirOwnFile) {
  TempDir dir;
  WriteFile(dir / "with.toml",
            "listen = \"127.0.0.1:9000\"\n[providers.cdn]\ntype = \"folder\"\nroot = \"/x\"\n");
  FakeEnv env;
  ServeFlags flags;
  flags.config_file = (dir / "with.toml").string();
  auto inline_table = LoadServeConfig(flags, env.Getter());
  ASSERT_TRUE(inline_table.has_value()) << inline_table.error().message;
  EXPECT_EQ(inline_table->providers_file, (dir / "with.toml").string());
  EXPECT_EQ(inline_table->generation_workers, 2);

  env.vars["PIXVAULT_PROVIDERS_FILE"] = "/etc/pixvault/providers.toml";
  env.vars["PIXVAULT_GENERATION_WORKERS"] = "4";
  auto from_env = LoadServeConfig({}, env.Getter());
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(from_env->providers_file, "/etc/pixvault/providers.toml");
  EXPECT_EQ(from_env->generation_workers, 4);
  ServeFlags flag;
  flag.providers_file = "/tmp/p.toml";
  auto from_flag = LoadServeConfig(flag, env.Getter());
  ASSERT_TRUE(from_flag.has_value());
  EXPECT_EQ(from_flag->providers_file, "/tmp/p.toml");
  // `providers` that is not a table is an unknown key, not a file name.
  WriteFile(dir / "odd.toml", "providers = 3\n");
  flags.config_file = (dir / "odd.toml").string();
  EXPECT_FALSE(LoadServeConfig(flags, FakeEnv{}.Getter()).has_value());
}

TEST(ServeConfig, BadInputsNameTheirSource) {
  TempDir dir;
  FakeEnv env;
  ServeFlags flags;
  flags.config_file = (dir / "missing.toml").string();
  auto missing = LoadServeConfig(flags, env.Getter());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  WriteFile(dir / "bad.toml", "listen = [1, 2\n");
  flags.config_file = (dir / "bad.toml").string();
  auto syntax = LoadServeConfig(flags, env.Getter());
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code, ErrorCode::kInvalidArgument);

  WriteFile(dir / "unknown.toml", "colour = \"blue\"\n");
  flags.config_file = (dir / "unknown.toml").string();
  auto unknown = LoadServeConfig(flags, env.Getter());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("colour"), std::string::npos);

  FakeEnv bad_env;
  bad_env.vars["PIXVAULT_THREADS"] = "many";
  auto threads = LoadServeConfig({}, bad_env.Getter());
  ASSERT_FALSE(threads.has_value());
  EXPECT_NE(threads.error().message.find("PIXVAULT_THREADS"), std::string::npos);
  FakeEnv no_connections;
  no_connections.vars["PIXVAULT_DB_CONNECTIONS"] = "0";
  auto connections = LoadServeConfig({}, no_connections.Getter());
  ASSERT_FALSE(connections.has_value());
  EXPECT_NE(connections.error().message.find("PIXVAULT_DB_CONNECTIONS"), std::string::npos);

  FakeEnv hosts;
  hosts.vars["PIXVAULT_FETCH_ALLOW_HOSTS"] = "127.0.0.1/32, 10.0.0.0/8";
  auto allowed = LoadServeConfig({}, hosts.Getter());
  ASSERT_TRUE(allowed.has_value()) << allowed.error().message;
  EXPECT_EQ(allowed->api.fetch_allow_hosts.size(), 2u);
  hosts.vars["PIXVAULT_FETCH_ALLOW_HOSTS"] = "intranet.local";
  EXPECT_FALSE(LoadServeConfig({}, hosts.Getter()).has_value());

  ServeFlags listen;
  listen.listen = "localhost";
  EXPECT_FALSE(LoadServeConfig(listen, env.Getter()).has_value());
  listen.listen = "127.0.0.1:99999";
  EXPECT_FALSE(LoadServeConfig(listen, env.Getter()).has_value());
  listen.listen = ":0";
  auto any = LoadServeConfig(listen, env.Getter());
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->server.port, 0);
}

TEST(ServeConfig, CacheBudgetTakesSuffixesFromFlagEnvironmentOrFile) {
  FakeEnv env;
  auto none = LoadServeConfig({}, env.Getter());
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_FALSE(none->cache_budget.has_value());  // no budget: no eviction

  TempDir dir;
  WriteFile(dir / "c.toml", "cache_budget = \"2G\"\ncache_evict_interval_sec = 30\n");
  ServeFlags flags;
  flags.config_file = (dir / "c.toml").string();
  auto file = LoadServeConfig(flags, env.Getter());
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ(file->cache_budget, std::int64_t{2} << 30);
  EXPECT_EQ(file->cache_evict_interval, 30 * kMicrosPerSecond);

  env.vars["PIXVAULT_CACHE_BUDGET"] = "500M";
  auto from_env = LoadServeConfig(flags, env.Getter());
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(from_env->cache_budget, std::int64_t{500} << 20);

  flags.cache_budget = "1048576";
  auto from_flag = LoadServeConfig(flags, env.Getter());
  ASSERT_TRUE(from_flag.has_value()) << from_flag.error().message;
  EXPECT_EQ(from_flag->cache_budget, 1048576);

  flags.cache_budget = "lots";
  auto bad = LoadServeConfig(flags, env.Getter());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("cache_budget"), std::string::npos) << bad.error().message;
}

TEST(ParseByteSize, AcceptsBinarySuffixesAndRejectsTheRest) {
  EXPECT_EQ(service::ParseByteSize("0"), 0);
  EXPECT_EQ(service::ParseByteSize("1024"), 1024);
  EXPECT_EQ(service::ParseByteSize("64K"), 64 << 10);
  EXPECT_EQ(service::ParseByteSize("500M"), std::int64_t{500} << 20);
  EXPECT_EQ(service::ParseByteSize("10G"), std::int64_t{10} << 30);
  EXPECT_EQ(service::ParseByteSize("10GiB"), std::int64_t{10} << 30);
  EXPECT_EQ(service::ParseByteSize("10GB"), std::int64_t{10} << 30);
  EXPECT_EQ(service::ParseByteSize("1.5T"), std::int64_t{3} << 39);
  for (const char* bad : {"", "G", "-1G", "ten", "1X", "1e30", "9999999T", "nan"}) {
    EXPECT_FALSE(service::ParseByteSize(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pixvault::app
