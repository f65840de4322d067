// RecordingDatabase: a forwarding sql::Database that can record every statement run
// through it, with its bound parameters.
//
// The store benchmark wraps the Store's database in one, records what a Store call sent,
// and then replays exactly those statements through the sql layer and through the
// sqlite3/psql command-line tools, so "the same SQL" is never a hand-written copy that can
// drift from the store. Recording is meant for one thread at a time; forwarding is as
// thread-safe as the wrapped database.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/sql/database.h"

namespace pixvault::bench {

struct RecordedStatement {
  std::string sql;
  std::vector<storage::sql::Value> params;
};

class RecordingDatabase final : public storage::sql::Database {
 public:
  explicit RecordingDatabase(std::unique_ptr<storage::sql::Database> inner)
      : inner_(std::move(inner)) {}

  storage::sql::Dialect dialect() const override { return inner_->dialect(); }
  Status Read(const Work& work) override;
  Status Transaction(const Work& work) override;

  // Starts collecting statements (clearing earlier ones); Stop returns them in run order.
  void Start() {
    recorded_.clear();
    recording_ = true;
  }
  std::vector<RecordedStatement> Stop() {
    recording_ = false;
    return std::move(recorded_);
  }

 private:
  Work Wrap(const Work& work);

  std::unique_ptr<storage::sql::Database> inner_;
  bool recording_ = false;
  std::vector<RecordedStatement> recorded_;
};

}  // namespace pixvault::bench
