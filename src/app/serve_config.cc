#include "app/serve_config.h"

#include <charconv>
#include <filesystem>

#include <toml++/toml.h>

#include "core/text.h"
#include "fetch/address.h"
#include "service/cache.h"

namespace pixvault::app {

namespace {

Result<std::int64_t> ParseInt(std::string_view text, std::string_view what, std::int64_t min,
                              std::int64_t max) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + ": '" + std::string(text) +
                                                 "' is not an integer in " + std::to_string(min) +
                                                 ".." + std::to_string(max));
  }
  return v;
}

// One setting and how to apply a textual value of it.
struct Setting {
  const char* key;  // TOML key; the environment variable is PIXVAULT_<KEY> upper-cased
  std::function<Status(ServeConfig&, std::string_view, std::string_view)> apply;
};

std::vector<Setting> Settings() {
  auto int_setting = [](const char* key, std::int64_t min, std::int64_t max,
                        std::function<void(ServeConfig&, std::int64_t)> set) {
    return Setting{key, [=](ServeConfig& c, std::string_view v, std::string_view src) -> Status {
                     auto n = ParseInt(v, std::string(src) + " " + key, min, max);
                     if (!n) return Fail(n.error());
                     set(c, *n);
                     return Ok();
                   }};
  };
  constexpr std::int64_t kDay = 86400;
  return {
      Setting{"listen",
              [](ServeConfig& c, std::string_view v, std::string_view src) -> Status {
                auto st = ParseListen(v, c.server);
                if (!st) return Fail(WithContext(st.error(), std::string(src) + " listen"));
                return Ok();
              }},
      Setting{"data_dir",
              [](ServeConfig& c, std::string_view v, std::string_view) -> Status {
                c.data_dir = std::string(v);
                return Ok();
              }},
      Setting{"db",
              [](ServeConfig& c, std::string_view v, std::string_view) -> Status {
                c.db = std::string(v);
                return Ok();
              }},
      int_setting("threads", 1, 256,
                  [](ServeConfig& c, std::int64_t n) { c.server.threads = static_cast<int>(n); }),
      int_setting(
          "blocking_threads", 1, 256,
          [](ServeConfig& c, std::int64_t n) { c.server.blocking_threads = static_cast<int>(n); }),
      int_setting("db_connections", 1, 1024,
                  [](ServeConfig& c, std::int64_t n) { c.db_connections = static_cast<int>(n); }),
      int_setting(
          "remote_threads", 1, 1024,
          [](ServeConfig& c, std::int64_t n) { c.server.remote_threads = static_cast<int>(n); }),
      int_setting(
          "max_connections", 1, 1'000'000,
          [](ServeConfig& c, std::int64_t n) { c.server.max_connections = static_cast<int>(n); }),
      int_setting("header_limit_bytes", 1024, 1 << 20,
                  [](ServeConfig& c, std::int64_t n) { c.server.header_limit = n; }),
      int_setting("upload_limit_bytes", 1, std::int64_t{1} << 50,
                  [](ServeConfig& c, std::int64_t n) { c.api.upload_limit = n; }),
      int_setting("json_body_limit_bytes", 1024, std::int64_t{1} << 30,
                  [](ServeConfig& c, std::int64_t n) { c.api.json_body_limit = n; }),
      int_setting(
          "header_timeout_sec", 1, kDay,
          [](ServeConfig& c, std::int64_t n) { c.server.header_timeout = n * kMicrosPerSecond; }),
      int_setting(
          "idle_timeout_sec", 1, kDay,
          [](ServeConfig& c, std::int64_t n) { c.server.idle_timeout = n * kMicrosPerSecond; }),
      int_setting(
          "body_timeout_sec", 1, kDay,
          [](ServeConfig& c, std::int64_t n) { c.server.body_timeout = n * kMicrosPerSecond; }),
      Setting{"fetch_allow_hosts",
              [](ServeConfig& c, std::string_view v, std::string_view src) -> Status {
                c.api.fetch_allow_hosts = SplitCommaList(v);
                auto parsed = fetch::ParseAllowList(c.api.fetch_allow_hosts);
                if (!parsed) {
                  return Fail(WithContext(parsed.error(), std::string(src) + " fetch_allow_hosts"));
                }
                return Ok();
              }},
      int_setting("fetch_limit_bytes", 1, std::int64_t{1} << 50,
                  [](ServeConfig& c, std::int64_t n) { c.api.fetch_limit = n; }),
      int_setting(
          "fetch_max_concurrent", 1, 1024,
          [](ServeConfig& c, std::int64_t n) { c.api.fetch_max_concurrent = static_cast<int>(n); }),
      int_setting(
          "fetch_max_redirects", 0, 20,
          [](ServeConfig& c, std::int64_t n) { c.api.fetch_max_redirects = static_cast<int>(n); }),
      int_setting(
          "fetch_total_timeout_sec", 1, kDay,
          [](ServeConfig& c, std::int64_t n) { c.api.fetch_total_timeout = n * kMicrosPerSecond; }),
      Setting{"providers_file",
              [](ServeConfig& c, std::string_view v, std::string_view) -> Status {
                c.providers_file = std::string(v);
                return Ok();
              }},
      int_setting(
          "generation_workers", 0, 64,
          [](ServeConfig& c, std::int64_t n) { c.generation_workers = static_cast<int>(n); }),
      int_setting("job_lease_sec", 3, 3600,
                  [](ServeConfig& c, std::int64_t n) { c.job_lease = n * kMicrosPerSecond; }),
      int_setting("analysis_workers", 0, 64,
                  [](ServeConfig& c, std::int64_t n) { c.analysis_workers = static_cast<int>(n); }),
      int_setting(
          "thumbnail_size", 16, 4096,
          [](ServeConfig& c, std::int64_t n) { c.analysis.thumbnail_size = static_cast<int>(n); }),
      int_setting(
          "preview_size", 16, 16383,
          [](ServeConfig& c, std::int64_t n) { c.analysis.preview_size = static_cast<int>(n); }),
      Setting{"analyze_on_ingest",
              [](ServeConfig& c, std::string_view v, std::string_view src) -> Status {
                // "video,image,audio,3d_model", or "none".
                std::vector<MediaType> types;
                if (v != "none") {
                  for (const std::string& name : SplitCommaList(v)) {
                    auto type = Parse<MediaType>(name);
                    if (!type) {
                      return Fail(
                          WithContext(type.error(), std::string(src) + " analyze_on_ingest"));
                    }
                    types.push_back(*type);
                  }
                }
                c.analyze_on_ingest = std::move(types);
                return Ok();
              }},
      Setting{"cache_budget",
              [](ServeConfig& c, std::string_view v, std::string_view src) -> Status {
                // Bytes for local copies, "10G", "500M"; "none" (the default): no eviction.
                if (v == "none") {
                  c.cache_budget.reset();
                  return Ok();
                }
                auto bytes = service::ParseByteSize(v);
                if (!bytes)
                  return Fail(WithContext(bytes.error(), std::string(src) + " cache_budget"));
                c.cache_budget = *bytes;
                return Ok();
              }},
      int_setting(
          "cache_evict_interval_sec", 1, kDay,
          [](ServeConfig& c, std::int64_t n) { c.cache_evict_interval = n * kMicrosPerSecond; }),
      int_setting(
          "shutdown_grace_sec", 0, kDay,
          [](ServeConfig& c, std::int64_t n) { c.server.shutdown_grace = n * kMicrosPerSecond; }),
  };
}

}  // namespace

Status ParseListen(std::string_view text, http::ServerOptions& out) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "listen address '" + std::string(text) + "' must look like HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  PV_ASSIGN_OR_RETURN(std::int64_t port, ParseInt(text.substr(colon + 1), "port", 0, 65535));
  out.host = host.empty() ? "127.0.0.1" : std::string(host);
  out.port = static_cast<std::uint16_t>(port);
  return Ok();
}

Result<ServeConfig> LoadServeConfig(const ServeFlags& flags,
                                    const std::function<const char*(const char*)>& getenv) {
  ServeConfig config;
  const auto settings = Settings();
  // 1. The TOML file.
  std::optional<std::string> file = flags.config_file;
  if (!file) {
    if (const char* e = getenv("PIXVAULT_CONFIG"); e && *e) file = e;
  }
  if (file) {
    std::error_code ec;
    if (!std::filesystem::exists(*file, ec)) {
      return Fail(ErrorCode::kNotFound, "config file " + *file + " does not exist");
    }
    // toml++ is built with exceptions here; they stay inside this adapter.
    toml::table table;
    try {
      table = toml::parse_file(*file);
    } catch (const toml::parse_error& err) {
      return Fail(ErrorCode::kInvalidArgument, "config file " + *file + " line " +
                                                   std::to_string(err.source().begin.line) + ": " +
                                                   std::string(err.description()));
    }
    for (const auto& [key, node] : table) {
      if (key.str() == "providers" && node.is_table()) {
        config.providers_file = *file;  // read by providers::LoadProviderRegistryFile
        continue;
      }
      auto it = std::find_if(settings.begin(), settings.end(),
                             [&](const Setting& s) { return key.str() == s.key; });
      if (it == settings.end()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "config file " + *file + ": unknown key '" + std::string(key.str()) + "'");
      }
      std::string value;
      if (auto s = node.value<std::string>()) {
        value = *s;
      } else if (auto i = node.value<std::int64_t>()) {
        value = std::to_string(*i);
      } else {
        return Fail(ErrorCode::kInvalidArgument, "config file " + *file + ": '" +
                                                     std::string(key.str()) +
                                                     "' must be a string or integer");
      }
      PV_RETURN_IF_ERROR(it->apply(config, value, "config file"));
    }
  }
  // 2. The environment.
  for (const Setting& s : settings) {
    std::string var = "PIXVAULT_";
    for (const char* p = s.key; *p; ++p) var += static_cast<char>(std::toupper(*p));
    if (const char* e = getenv(var.c_str()); e && *e) {
      PV_RETURN_IF_ERROR(s.apply(config, e, var));
    }
  }
  // 3. Flags.
  const auto settings_apply = [&](std::string_view key, std::string_view value) -> Status {
    for (const Setting& s : settings) {
      if (key == s.key) return s.apply(config, value, "command line");
    }
    return Fail(ErrorCode::kInternal, "unknown setting");
  };
  if (flags.listen) PV_RETURN_IF_ERROR(ParseListen(*flags.listen, config.server));
  if (flags.threads) config.server.threads = *flags.threads;
  if (flags.max_connections) config.server.max_connections = *flags.max_connections;
  if (flags.upload_limit) config.api.upload_limit = *flags.upload_limit;
  if (flags.data_dir) config.data_dir = *flags.data_dir;
  if (flags.db) config.db = *flags.db;
  if (flags.providers_file) config.providers_file = *flags.providers_file;
  if (flags.cache_budget) PV_RETURN_IF_ERROR(settings_apply("cache_budget", *flags.cache_budget));
  if (config.server.threads < 1 || config.server.max_connections < 1) {
    return Fail(ErrorCode::kInvalidArgument, "threads and max_connections must be >= 1");
  }
  return config;
}

}  // namespace pixvault::app
