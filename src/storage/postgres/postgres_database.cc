#include "storage/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "storage/postgres/pg_connection.h"

namespace pixvault::storage::sql {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTransactionAttempts = 5;
// A pooled session idle for longer than this is pinged before use, so a server restart or an
// idle-timeout disconnect costs a reconnect instead of a failed request.
constexpr auto kPingAfterIdle = std::chrono::seconds(30);

struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

// Replaces every occurrence of `secret` in `text`.
void Redact(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "***");
    pos += 3;
  }
}

// Best-effort password of an unparseable URL ("scheme://user:PASSWORD@host"), for redaction.
std::string UrlPassword(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return {};
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return {};
  return url.substr(colon + 1, at - colon - 1);
}

// The connection parameters of `url`, as libpq parses them. kInvalidArgument if malformed.
struct Target {
  std::string password;      // kept only to redact it from messages
  std::string raw_password;  // as spelled in the URL (maybe percent-encoded), likewise
  std::string where;         // "host:port/dbname", for messages
};

Result<Target> ParseTarget(const std::string& url) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> opts(PQconninfoParse(url.c_str(), &err));
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    PQfreemem(err);
    Redact(msg, UrlPassword(url));
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Fail(ErrorCode::kInvalidArgument, "invalid PostgreSQL URL: " + msg);
  }
  std::string host, hostaddr, port, dbname, user;
  Target t;
  for (PQconninfoOption* o = opts.get(); o->keyword; ++o) {
    std::string_view key = o->keyword;
    std::string val = o->val ? o->val : "";
    if (key == "host") host = val;
    if (key == "hostaddr") hostaddr = val;
    if (key == "port") port = val;
    if (key == "dbname") dbname = val;
    if (key == "user") user = val;
    if (key == "password") t.password = val;
  }
  t.raw_password = UrlPassword(url);
  if (host.empty()) host = hostaddr;
  t.where = (user.empty() ? "" : user + "@") + (host.empty() ? "(default socket)" : host) + ":" +
            (port.empty() ? "(default port)" : port) + "/" + dbname;
  return t;
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, Target target, DatabaseOptions options)
      : url_(std::move(url)), target_(std::move(target)), options_(options) {
    if (options_.pool_size < 1) options_.pool_size = 1;
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  // Opens one session; the pool does not count it until Release().
  Result<std::unique_ptr<PgConnection>> Connect() {
    // Defaults come before "dbname" so that values in the URL, expanded in its place,
    // override them.
    const char* const keywords[] = {"connect_timeout", "fallback_application_name",
                                    "client_encoding", "dbname", nullptr};
    const char* const values[] = {"5", "pixvault", "UTF8", url_.c_str(), nullptr};
    PgConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!conn) return Fail(ErrorCode::kUnavailable, "cannot allocate a PostgreSQL connection");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn.get());
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      for (char& c : msg) {
        if (c == '\n' || c == '\t') c = ' ';
      }
      Redact(msg, target_.password);
      Redact(msg, target_.raw_password);
      return Fail(ErrorCode::kUnavailable,
                  "cannot connect to PostgreSQL at " + target_.where + ": " + msg);
    }
    auto c = PgConnection::Create(std::move(conn));
    if (!c) return Fail(WithContext(c.error(), "set up session to " + target_.where));
    return c;
  }

  // Adopts a session opened outside the pool (the one OpenPostgresDatabase checked).
  void Adopt(std::unique_ptr<PgConnection> conn) {
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back({std::move(conn), Clock::now()});
  }

  Status Read(const Work& work) override {
    PV_ASSIGN_OR_RETURN(auto conn, Acquire());
    Status st = work(*conn);
    Release(std::move(conn));
    return st;
  }

  Status Transaction(const Work& work) override {
    Status last = Ok();
    for (int attempt = 0; attempt < kTransactionAttempts; ++attempt) {
      if (attempt > 0) Backoff(attempt);
      PV_ASSIGN_OR_RETURN(auto conn, Acquire());
      bool begin_failed = false;
      Status st = RunOnce(*conn, work, &begin_failed);
      bool retry = !st && conn->saw_retryable();
      bool lost_before_work = !st && conn->broken() && begin_failed;
      Release(std::move(conn));
      if (st) return st;
      last = std::move(st);
      if (!retry && !lost_before_work) return last;
    }
    return Fail(ErrorCode::kUnavailable, "transaction gave up after " +
                                             std::to_string(kTransactionAttempts) +
                                             " attempts: " + last.error().message);
  }

 private:
  struct Idle {
    std::unique_ptr<PgConnection> conn;
    Clock::time_point since;
  };

  // One BEGIN/work/COMMIT round. Sets `*begin_failed` when BEGIN itself failed: nothing ran,
  // so a lost session is safe to replace and retry.
  static Status RunOnce(PgConnection& conn, const Work& work, bool* begin_failed) {
    conn.ClearRetryable();
    auto begin = conn.Command("BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!begin) {
      *begin_failed = true;
      return Fail(begin.error());
    }
    Status st = work(conn);
    if (st && conn.transaction_status() == PQTRANS_INERROR) {
      // `work` swallowed a failed statement; the server already doomed the transaction.
      st = Fail(ErrorCode::kInternal,
                "transaction aborted by a failed statement that the caller ignored");
    }
    if (!st) {
      if (!conn.broken()) (void)conn.Command("ROLLBACK");
      return st;
    }
    auto commit = conn.Command("COMMIT");
    if (!commit) {
      if (conn.transaction_status() != PQTRANS_IDLE && !conn.broken()) {
        (void)conn.Command("ROLLBACK");
      }
      return Fail(WithContext(commit.error(), "commit"));
    }
    if (*commit != "COMMIT") {
      return Fail(ErrorCode::kInternal, "commit: server rolled the transaction back");
    }
    return Ok();
  }

  static void Backoff(int attempt) {
    // 5, 10, 20, 40 ms plus a per-thread offset so colliding writers drift apart.
    auto jitter = static_cast<long>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 5);
    std::this_thread::sleep_for(std::chrono::milliseconds((5L << (attempt - 1)) + jitter));
  }

  Result<std::unique_ptr<PgConnection>> Acquire() {
    auto deadline = Clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
    std::unique_lock lock(mu_);
    for (;;) {
      while (!idle_.empty()) {
        Idle idle = std::move(idle_.back());
        idle_.pop_back();
        bool stale = Clock::now() - idle.since > kPingAfterIdle;
        if (idle.conn->broken() || (stale && !Ping(lock, *idle.conn))) {
          --open_;  // dropped; its replacement is opened below
          cv_.notify_one();
          continue;
        }
        return std::move(idle.conn);
      }
      if (open_ < options_.pool_size) {
        ++open_;
        lock.unlock();
        auto conn = Connect();
        if (!conn) {
          lock.lock();
          --open_;
          cv_.notify_one();
        }
        return conn;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        return Fail(ErrorCode::kUnavailable, "all " + std::to_string(options_.pool_size) +
                                                 " PostgreSQL connections stayed busy for " +
                                                 std::to_string(options_.busy_timeout_ms) + " ms");
      }
    }
  }

  // Pings without holding the pool lock.
  static bool Ping(std::unique_lock<std::mutex>& lock, PgConnection& conn) {
    lock.unlock();
    bool ok = conn.Ping();
    lock.lock();
    return ok;
  }

  void Release(std::unique_ptr<PgConnection> conn) {
    // Work run by Read may leave a transaction open (an explicit BEGIN); close it here so
    // the next user starts clean.
    auto ts = conn->transaction_status();
    if (!conn->broken() && (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)) {
      (void)conn->Command("ROLLBACK");
    }
    bool keep = !conn->broken() && conn->transaction_status() == PQTRANS_IDLE;
    std::lock_guard lock(mu_);
    if (keep) {
      idle_.push_back({std::move(conn), Clock::now()});
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  std::string url_;
  Target target_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Idle> idle_;  // guarded by mu_
  int open_ = 0;            // sessions idle or handed out; guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                       const DatabaseOptions& options) {
  PV_ASSIGN_OR_RETURN(Target target, ParseTarget(url));
  auto db = std::make_unique<PostgresDatabase>(url, std::move(target), options);
  // Connect once now so a wrong URL or a down server fails here, not on first use.
  PV_ASSIGN_OR_RETURN(auto conn, db->Connect());
  db->Adopt(std::move(conn));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace pixvault::storage::sql
