#include "bench/recording_database.h"

namespace pixvault::bench {
namespace {

using storage::sql::Connection;
using storage::sql::Dialect;
using storage::sql::Rows;
using storage::sql::Value;

// Forwards to the borrowed connection, copying each statement into `sink` when it is set.
class RecordingConnection final : public Connection {
 public:
  RecordingConnection(Connection& inner, std::vector<RecordedStatement>* sink)
      : inner_(inner), sink_(sink) {}

  Dialect dialect() const override { return inner_.dialect(); }
  using Connection::Query;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    if (sink_) sink_->push_back({std::string(sql), {params.begin(), params.end()}});
    return inner_.Query(sql, params);
  }
  std::int64_t Changes() override { return inner_.Changes(); }
  Status ExecScript(std::string_view sql) override { return inner_.ExecScript(sql); }

 private:
  Connection& inner_;
  std::vector<RecordedStatement>* sink_;
};

}  // namespace

RecordingDatabase::Work RecordingDatabase::Wrap(const Work& work) {
  std::vector<RecordedStatement>* sink = recording_ ? &recorded_ : nullptr;
  return [&work, sink](Connection& c) -> Status {
    RecordingConnection rc(c, sink);
    return work(rc);
  };
}

Status RecordingDatabase::Read(const Work& work) { return inner_->Read(Wrap(work)); }

Status RecordingDatabase::Transaction(const Work& work) { return inner_->Transaction(Wrap(work)); }

}  // namespace pixvault::bench
