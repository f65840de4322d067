#include "testing/store_fixture.h"

namespace pixvault::testing {

std::string StoreTest::FreshUrl() {
  if (GetParam() == "sqlite") {
    if (!dir_) dir_ = std::make_unique<TempDir>();
    static int counter = 0;
    return "sqlite://" + (dir_->path() / ("db" + std::to_string(++counter) + ".sqlite")).string();
  }
  auto admin = TestPostgresUrl();
  auto scratch = ScratchPostgresDatabase::Create(*admin);
  if (!scratch) {
    ADD_FAILURE() << "scratch database: " << scratch.error().message;
    return "";
  }
  pg_ = std::move(*scratch);
  return pg_->url();
}

void StoreTest::SetUp() {
  if (GetParam() == "postgres") {
    PV_REQUIRE_POSTGRES_OR_SKIP();
  }
  url_ = FreshUrl();
  ASSERT_FALSE(url_.empty());
  auto store = storage::OpenStore(url_, clock_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  store_ = std::move(*store);
}

std::unique_ptr<storage::Store> StoreTest::OpenAnother(const Clock& clock) {
  auto store = storage::OpenStore(url_, clock);
  if (!store) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace pixvault::testing
