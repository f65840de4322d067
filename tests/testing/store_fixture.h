// A gtest fixture parameterised by storage backend: "sqlite" (a temp file) or "postgres"
// (a scratch database on the server of PIXVAULT_TEST_PG_URL). Each test gets an empty,
// migrated store and a ManualClock.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "storage/store.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

namespace pixvault::testing {

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  // A URL for a fresh, empty database of the current backend (not migrated).
  std::string FreshUrl();
  // Opens another store on the same database (a second process would do the same).
  std::unique_ptr<storage::Store> OpenAnother(const Clock& clock);

  ManualClock clock_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ScratchPostgresDatabase> pg_;
  std::string url_;
  std::unique_ptr<storage::Store> store_;
};

// Instantiates a StoreTest-derived suite for both backends.
#define PV_INSTANTIATE_STORE_TEST(Suite)                                             \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgres"), \
                           [](const auto& param_info) { return param_info.param; })

// Unwraps a Result in a test, failing with its message.
#define PV_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  PV_ASSERT_OK_AND_ASSIGN_IMPL_(PV_CONCAT_(pv_test_result_, __LINE__), lhs, expr)
#define PV_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)                   \
  auto tmp = (expr);                                                    \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().message; \
  lhs = std::move(*tmp)
#define PV_ASSERT_OK(expr)                                                      \
  do {                                                                          \
    auto pv_st_ = (expr);                                                       \
    ASSERT_TRUE(pv_st_.has_value()) << #expr << ": " << pv_st_.error().message; \
  } while (0)
#define PV_EXPECT_ERROR(expr, error_code)                                   \
  do {                                                                      \
    auto pv_st_ = (expr);                                                   \
    ASSERT_FALSE(pv_st_.has_value()) << #expr << " unexpectedly succeeded"; \
    EXPECT_EQ(pv_st_.error().code, error_code) << pv_st_.error().message;   \
  } while (0)

}  // namespace pixvault::testing
