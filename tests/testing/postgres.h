// PostgreSQL for tests: the server URL from the environment and throwaway databases on it.
//
// `scripts/with-postgres.sh CMD` starts a private server and exports PIXVAULT_TEST_PG_URL (an
// admin URL: a superuser on the `postgres` database). Without it PostgreSQL tests skip, unless
// PIXVAULT_REQUIRE_PG=1 (set by CI), in which case they fail: a CI run can never pass by
// silently skipping them. Use PV_REQUIRE_POSTGRES_OR_SKIP() at the top of a test or SetUp().
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"

namespace pixvault::testing {

// PIXVAULT_TEST_PG_URL, or nullopt when unset or empty.
std::optional<std::string> TestPostgresUrl();
// True when PIXVAULT_REQUIRE_PG=1.
bool PostgresRequired();

// A freshly created, uniquely named, empty database (pixvault_t_<pid>_<n>_<random>) on the
// server of `admin_url`, dropped WITH (FORCE) on destruction (ending any session still on
// it). Not thread-safe; create one per test.
class ScratchPostgresDatabase {
 public:
  // Errors: kUnavailable when the server cannot be reached, kInternal if CREATE DATABASE fails.
  static Result<std::unique_ptr<ScratchPostgresDatabase>> Create(const std::string& admin_url);
  ~ScratchPostgresDatabase();
  ScratchPostgresDatabase(const ScratchPostgresDatabase&) = delete;
  ScratchPostgresDatabase& operator=(const ScratchPostgresDatabase&) = delete;

  // A postgresql:// URL for the scratch database (same server, user and options).
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs one statement on the admin connection (e.g. pg_terminate_backend); returns the
  // first column of the first row, or "" when there is none.
  Result<std::string> AdminQuery(const std::string& sql);

 private:
  ScratchPostgresDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace pixvault::testing

// Skips the current test when no PostgreSQL server is configured, or fails it when
// PIXVAULT_REQUIRE_PG=1. Usable in TEST bodies and in SetUp().
#define PV_REQUIRE_POSTGRES_OR_SKIP()                                                         \
  do {                                                                                        \
    if (!::pixvault::testing::TestPostgresUrl()) {                                            \
      if (::pixvault::testing::PostgresRequired()) {                                          \
        GTEST_FAIL() << "PIXVAULT_REQUIRE_PG=1 but PIXVAULT_TEST_PG_URL is not set; "         \
                        "run the tests under scripts/with-postgres.sh";                       \
      }                                                                                       \
      GTEST_SKIP() << "PIXVAULT_TEST_PG_URL is not set (run under scripts/with-postgres.sh)"; \
    }                                                                                         \
  } while (0)
