// The sql::Database contract, run against every driver: SQLite on a temp file and PostgreSQL
// on a scratch database (run under scripts/with-postgres.sh; skipped without a server unless
// PIXVAULT_REQUIRE_PG=1). Then driver-specific behaviour of the PostgreSQL driver.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/postgres/postgres_database.h"
#include "storage/sql/database.h"
#include "storage/sqlite/sqlite_database.h"
#include "testing/postgres.h"
#include "testing/temp_dir.h"

namespace pixvault::storage::sql {

// Names the parameter in gtest's failure messages (found by ADL, hence not in the unnamed
// namespace).
static void PrintTo(Dialect dialect, std::ostream* os) {
  *os << (dialect == Dialect::kSqlite ? "sqlite" : "postgres");
}

namespace {

using ::pixvault::testing::ScratchPostgresDatabase;
using ::pixvault::testing::TempDir;
using ::pixvault::testing::TestPostgresUrl;

Value I(std::int64_t v) { return Value(v); }
Value S(std::string v) { return Value(std::move(v)); }
Value B(std::string v) { return Value(Bytes{std::move(v)}); }
const Value kNull = std::monostate{};

std::string DialectName(const ::testing::TestParamInfo<Dialect>& info) {
  return info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
}

// Opens a fresh, empty database of the given dialect; owns what backs it.
class TestDatabase {
 public:
  // Fatal gtest failures (or a skip) leave db() null; callers check with ASSERT/return.
  void Open(Dialect dialect, DatabaseOptions options = {}) {
    if (dialect == Dialect::kSqlite) {
      auto db = OpenSqliteDatabase((tmp_ / "test.db").string(), options);
      ASSERT_TRUE(db) << db.error().message;
      db_ = std::move(*db);
      return;
    }
    auto scratch = ScratchPostgresDatabase::Create(*TestPostgresUrl());
    ASSERT_TRUE(scratch) << scratch.error().message;
    scratch_ = std::move(*scratch);
    auto db = OpenPostgresDatabase(scratch_->url(), options);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  ~TestDatabase() { db_.reset(); }  // close sessions before the scratch database is dropped

  Database& db() { return *db_; }
  bool open() const { return db_ != nullptr; }
  ScratchPostgresDatabase& scratch() { return *scratch_; }

  Result<Rows> Query(std::string_view sql, std::vector<Value> params = {}) {
    std::optional<Result<Rows>> out;
    Status st = db_->Read([&](Connection& c) -> Status {
      out = c.Query(sql, params);
      return Ok();
    });
    if (!st) return Fail(st.error());
    return std::move(*out);
  }
  Status Exec(std::string_view script) {
    return db_->Read([&](Connection& c) { return c.ExecScript(script); });
  }

 private:
  TempDir tmp_;
  std::unique_ptr<ScratchPostgresDatabase> scratch_;  // declared before db_: outlives it
  std::unique_ptr<Database> db_;
};

class SqlDriverTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    if (pg()) PV_REQUIRE_POSTGRES_OR_SKIP();
    ASSERT_NO_FATAL_FAILURE(t_.Open(GetParam()));
  }

  bool pg() const { return GetParam() == Dialect::kPostgres; }
  const char* blob_type() const { return pg() ? "BYTEA" : "BLOB"; }
  Database& db() { return t_.db(); }
  Result<Rows> Query(std::string_view sql, std::vector<Value> params = {}) {
    return t_.Query(sql, std::move(params));
  }
  Status Exec(std::string_view script) { return t_.Exec(script); }
  std::int64_t Count(const std::string& table) {
    auto rows = Query("SELECT COUNT(*) AS n FROM " + table);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? RowView(*rows, 0).Int("n") : -1;
  }

  TestDatabase t_;
};

TEST_P(SqlDriverTest, RoundTripsEveryValueType) {
  ASSERT_TRUE(Exec(std::string("CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, "
                               "d DOUBLE PRECISION, t TEXT, b ") +
                   blob_type() + ", f BOOLEAN)"));
  const std::string binary("\0a\0\xff\x80\x01\0", 7);
  const std::string unicode =
      "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
      "\xf0\x9f\x8e\xac";
  const std::vector<std::vector<Value>> inserted = {
      {I(1), I(std::numeric_limits<std::int64_t>::max()), Value(-1234.5e-7), S(unicode), B(binary),
       Value(true)},
      {I(2), I(std::numeric_limits<std::int64_t>::min()), Value(-1e300), S(""), B(""),
       Value(false)},
      {I(3), kNull, kNull, kNull, kNull, kNull},
      {I(4), I(-1), Value(0.1), S("it's \"quoted\" \\ ?"), B(std::string(1, '\0')), Value(true)},
  };
  for (const auto& row : inserted) {
    auto r = Query("INSERT INTO vals (id, i, d, t, b, f) VALUES (?, ?, ?, ?, ?, ?)", row);
    ASSERT_TRUE(r) << r.error().message;
  }
  auto rows = Query("SELECT id, i, d, t, b, f FROM vals ORDER BY id");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), inserted.size());
  EXPECT_EQ(rows->columns(), (std::vector<std::string>{"id", "i", "d", "t", "b", "f"}));
  for (std::size_t r = 0; r < inserted.size(); ++r) {
    std::vector<Value> expected = inserted[r];
    // Booleans come back as integers 0/1 in both dialects.
    if (auto* b = std::get_if<bool>(&expected[5])) expected[5] = I(*b ? 1 : 0);
    EXPECT_EQ(rows->row(r), expected) << "row " << r;
  }
  RowView first(*rows, 0);
  EXPECT_TRUE(first.Bool("f"));
  EXPECT_EQ(first.Blob("b"), binary);
  EXPECT_EQ(first.Text("t"), unicode);
  EXPECT_TRUE(RowView(*rows, 2).IsNull("t"));
  EXPECT_EQ(RowView(*rows, 2).OptBool("f"), std::nullopt);

  // Values bound in a WHERE clause find the row again.
  auto found = Query("SELECT id FROM vals WHERE t = ? AND b = ? AND f = ?",
                     {S(unicode), B(binary), Value(true)});
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(RowView(*found, 0).Int("id"), 1);
}

TEST_P(SqlDriverTest, SameStatementWithDifferentParameterTypes) {
  for (const Value& v : {I(7), S("seven"), kNull, I(8)}) {
    auto rows = Query("SELECT ? AS v", {v});
    ASSERT_TRUE(rows) << rows.error().message;
    EXPECT_EQ(rows->row(0)[0], v);
  }
}

TEST_P(SqlDriverTest, QuestionMarkInsideLiteralsIsNotAParameter) {
  auto rows = Query(
      "SELECT 'why?' AS q, 'it''s ?' AS q2, ? AS \"col?\" /* a ? here */ -- and ? there\n"
      ", ? AS p2",
      {I(7), S("x?")});
  ASSERT_TRUE(rows) << rows.error().message;
  RowView row(*rows, 0);
  EXPECT_EQ(row.Text("q"), "why?");
  EXPECT_EQ(row.Text("q2"), "it's ?");
  EXPECT_EQ(row.Int("col?"), 7);
  EXPECT_EQ(row.Text("p2"), "x?");
}

TEST_P(SqlDriverTest, ParameterCountMismatchIsAnError) {
  auto rows = Query("SELECT ? AS a, ? AS b", {I(1)});
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::kInternal);
}

TEST_P(SqlDriverTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(Exec("CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)"));
  ASSERT_TRUE(Query("INSERT INTO users (id, name) VALUES (?, ?)", {I(1), S("ada")}));
  auto dup_name = Query("INSERT INTO users (id, name) VALUES (?, ?)", {I(2), S("ada")});
  ASSERT_FALSE(dup_name);
  EXPECT_EQ(dup_name.error().code, ErrorCode::kAlreadyExists) << dup_name.error().message;
  auto dup_key = Query("INSERT INTO users (id, name) VALUES (?, ?)", {I(1), S("bob")});
  ASSERT_FALSE(dup_key);
  EXPECT_EQ(dup_key.error().code, ErrorCode::kAlreadyExists) << dup_key.error().message;

  // INTEGER PRIMARY KEY is SQLite's rowid alias, which reports duplicates differently.
  ASSERT_TRUE(Exec("CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT)"));
  ASSERT_TRUE(Query("INSERT INTO tags (id, label) VALUES (?, ?)", {I(1), S("a")}));
  auto dup_rowid = Query("INSERT INTO tags (id, label) VALUES (?, ?)", {I(1), S("b")});
  ASSERT_FALSE(dup_rowid);
  EXPECT_EQ(dup_rowid.error().code, ErrorCode::kAlreadyExists) << dup_rowid.error().message;
}

TEST_P(SqlDriverTest, ConstraintViolationsAreInvalidArgument) {
  ASSERT_TRUE(
      Exec("CREATE TABLE parent (id BIGINT PRIMARY KEY);"
           "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES "
           "parent (id), size BIGINT CHECK (size >= 0));"
           "INSERT INTO parent (id) VALUES (1);"));
  auto fk = Query("INSERT INTO child (id, parent_id) VALUES (?, ?)", {I(1), I(99)});
  ASSERT_FALSE(fk);
  EXPECT_EQ(fk.error().code, ErrorCode::kInvalidArgument) << fk.error().message;
  auto not_null = Query("INSERT INTO child (id, parent_id) VALUES (?, ?)", {I(2), kNull});
  ASSERT_FALSE(not_null);
  EXPECT_EQ(not_null.error().code, ErrorCode::kInvalidArgument) << not_null.error().message;
  auto check =
      Query("INSERT INTO child (id, parent_id, size) VALUES (?, ?, ?)", {I(3), I(1), I(-5)});
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ErrorCode::kInvalidArgument) << check.error().message;
  EXPECT_TRUE(
      Query("INSERT INTO child (id, parent_id, size) VALUES (?, ?, ?)", {I(4), I(1), I(5)}));
  EXPECT_EQ(Count("child"), 1);
}

TEST_P(SqlDriverTest, TransactionRollsBackOnErrorAndCommitsOtherwise) {
  ASSERT_TRUE(Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)"));
  Status failed = db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(1), S("a")}));
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(2), S("b")}));
    return Fail(ErrorCode::kNotFound, "changed my mind");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);  // work's own error, untouched
  EXPECT_EQ(failed.error().message, "changed my mind");
  EXPECT_EQ(Count("items"), 0);

  Status dup = db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(1), S("a")}));
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(1), S("a")}));
    return Ok();
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Count("items"), 0);

  ASSERT_TRUE(db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(1), S("a")}));
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, name) VALUES (?, ?)", {I(2), S("b")}));
    return Ok();
  }));
  EXPECT_EQ(Count("items"), 2);
}

TEST_P(SqlDriverTest, ChangesCountsAffectedRows) {
  ASSERT_TRUE(Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, n BIGINT)"));
  ASSERT_TRUE(db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id, n) VALUES (1, 0), (2, 0), (3, 5)"));
    EXPECT_EQ(c.Changes(), 3);
    PV_RETURN_IF_ERROR(c.Query("UPDATE items SET n = n + 1 WHERE n = ?", {I(0)}));
    EXPECT_EQ(c.Changes(), 2);
    PV_RETURN_IF_ERROR(c.Query("UPDATE items SET n = 0 WHERE id = ?", {I(42)}));
    EXPECT_EQ(c.Changes(), 0);
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM items WHERE id >= ?", {I(2)}));
    EXPECT_EQ(c.Changes(), 2);
    return Ok();
  }));
  EXPECT_EQ(Count("items"), 1);
}

TEST_P(SqlDriverTest, ReturningGivesInsertedRows) {
  ASSERT_TRUE(Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, n BIGINT DEFAULT 7)"));
  auto rows = Query("INSERT INTO items (id, name) VALUES (?, ?), (?, ?) RETURNING id, n",
                    {I(10), S("a"), I(11), S("b")});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->row(0), (std::vector<Value>{I(10), I(7)}));
  EXPECT_EQ(rows->row(1), (std::vector<Value>{I(11), I(7)}));
  auto updated = Query("UPDATE items SET name = ? WHERE id = ? RETURNING name", {S("z"), I(11)});
  ASSERT_TRUE(updated) << updated.error().message;
  ASSERT_EQ(updated->size(), 1u);
  EXPECT_EQ(RowView(*updated, 0).Text("name"), "z");
}

TEST_P(SqlDriverTest, ExecScriptRunsSeveralStatements) {
  ASSERT_TRUE(
      Exec("CREATE TABLE a (x BIGINT);\n"
           "-- a comment; with a semicolon\n"
           "INSERT INTO a (x) VALUES (1);\n"
           "INSERT INTO a (x) VALUES (2); INSERT INTO a (x) VALUES (3);\n"));
  EXPECT_EQ(Count("a"), 3);
  Status bad = Exec("INSERT INTO a (x) VALUES (4); INSERT INTO nowhere (x) VALUES (5);");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
}

TEST_P(SqlDriverTest, SyntaxErrorIsInternalAndLeavesTheDatabaseUsable) {
  auto rows = Query("SELEC 1");
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(rows.error().message.empty());
  Status tx = db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("SELECT FROM WHERE"));
    return Ok();
  });
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, ErrorCode::kInternal);
  auto ok = Query("SELECT 1 AS one");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(RowView(*ok, 0).Int("one"), 1);
}

TEST_P(SqlDriverTest, ConcurrentTransactionsDoNotLoseIncrements) {
  ASSERT_TRUE(
      Exec("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
           "INSERT INTO counter (id, n) VALUES (1, 0);"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Status st = db().Transaction([](Connection& c) -> Status {
          PV_RETURN_IF_ERROR(c.Query("UPDATE counter SET n = n + 1 WHERE id = ?", {I(1)}));
          if (c.Changes() != 1) return Fail(ErrorCode::kInternal, "no counter row");
          return Ok();
        });
        if (!st) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto rows = Query("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(RowView(*rows, 0).Int("n"), 200);
}

// Read-modify-write. PostgreSQL runs it SERIALIZABLE, so conflicts surface as serialization
// failures that Transaction re-runs; whatever still fails must be kUnavailable and must not
// have counted.
TEST_P(SqlDriverTest, RetriedConflictsNeverLoseOrDuplicateUpdates) {
  ASSERT_TRUE(
      Exec("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
           "INSERT INTO counter (id, n) VALUES (1, 0);"));
  const bool serializable = pg();
  std::atomic<int> successes{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Status st = db().Transaction([&](Connection& c) -> Status {
          if (serializable) {
            PV_RETURN_IF_ERROR(c.Query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
          }
          PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT n FROM counter WHERE id = ?", {I(1)}));
          std::int64_t n = RowView(rows, 0).Int("n");
          std::this_thread::yield();
          PV_RETURN_IF_ERROR(c.Query("UPDATE counter SET n = ? WHERE id = ?", {I(n + 1), I(1)}));
          return Ok();
        });
        if (st) {
          ++successes;
        } else if (st.error().code != ErrorCode::kUnavailable) {
          ADD_FAILURE() << st.error().message;
          ++other_errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(successes.load(), 0);
  auto rows = Query("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(RowView(*rows, 0).Int("n"), successes.load());
}

INSTANTIATE_TEST_SUITE_P(Drivers, SqlDriverTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres), DialectName);

// ---- PostgreSQL only ----

TEST(PostgresPlaceholders, RewritesOnlyCodeOutsideLiteralsAndComments) {
  int n = -1;
  EXPECT_EQ(RewritePlaceholders("SELECT ?, ?", &n), "SELECT $1, $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(RewritePlaceholders("SELECT 'a?''?' || ?", &n), "SELECT 'a?''?' || $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(RewritePlaceholders("SELECT E'\\'?' , ?", &n), "SELECT E'\\'?' , $1");
  EXPECT_EQ(n, 1);
  // Outside an E string a backslash is an ordinary character.
  EXPECT_EQ(RewritePlaceholders("SELECT 'a\\', ?", &n), "SELECT 'a\\', $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(RewritePlaceholders("SELECT \"a?\"\"?\" FROM t WHERE x = ?", &n),
            "SELECT \"a?\"\"?\" FROM t WHERE x = $1");
  EXPECT_EQ(RewritePlaceholders("SELECT ? -- ?\n, ? /* ? /* ? */ ? */ , ?", &n),
            "SELECT $1 -- ?\n, $2 /* ? /* ? */ ? */ , $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(RewritePlaceholders("SELECT $$?$$, $tag$ $$ ? $tag$, ?", &n),
            "SELECT $$?$$, $tag$ $$ ? $tag$, $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(RewritePlaceholders("SELECT a$b$, ?", &n), "SELECT a$b$, $1");
  EXPECT_EQ(RewritePlaceholders("SELECT 'unterminated ?", &n), "SELECT 'unterminated ?");
  EXPECT_EQ(n, 0);
  EXPECT_EQ(RewritePlaceholders("", &n), "");
  EXPECT_EQ(n, 0);
}

// A TCP port with nothing listening on it (bound, then released).
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PostgresOpen, ClosedPortIsUnavailableAndHidesThePassword) {
  std::string port = std::to_string(ClosedPort());
  auto db = OpenPostgresDatabase("postgresql://pixvault:s3cret-pw@127.0.0.1:" + port + "/nope", {});
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(db.error().message.find("127.0.0.1:" + port), std::string::npos) << db.error().message;
  EXPECT_EQ(db.error().message.find("s3cret-pw"), std::string::npos) << db.error().message;
}

TEST(PostgresOpen, ServerThatNeverAnswersTimesOutByDefault) {
  // The kernel completes the TCP handshake for a listening socket nobody accepts from, so
  // the client waits for a server greeting that never comes: only connect_timeout ends it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto db = OpenPostgresDatabase(
      "postgresql://pixvault@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/nope", {});
  ::close(fd);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::kUnavailable) << db.error().message;
}

TEST(PostgresOpen, MalformedUrlIsInvalidArgumentAndHidesThePassword) {
  auto db = OpenPostgresDatabase("postgresql://u:hunter2-secret@[::1/db", {});
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument) << db.error().message;
  EXPECT_EQ(db.error().message.find("hunter2-secret"), std::string::npos) << db.error().message;
}

class PostgresDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PV_REQUIRE_POSTGRES_OR_SKIP();
    DatabaseOptions options;
    options.pool_size = 1;
    options.busy_timeout_ms = 200;
    ASSERT_NO_FATAL_FAILURE(t_.Open(Dialect::kPostgres, options));
  }
  std::int64_t BackendPid() {
    auto rows = t_.Query("SELECT pg_backend_pid() AS pid");
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? RowView(*rows, 0).Int("pid") : -1;
  }
  TestDatabase t_;
};

TEST_F(PostgresDriverTest, ConvertsServerTypes) {
  ASSERT_TRUE(
      t_.Exec("CREATE TABLE docs (id INTEGER PRIMARY KEY, doc JSONB, at TIMESTAMPTZ, "
              "price NUMERIC(10, 2), small SMALLINT, r REAL)"));
  ASSERT_TRUE(t_.Query("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
                       {I(1), S(R"({"a": 1, "b": "x?"})"), S("2024-05-01T12:00:00+02:00"),
                        Value(12.5), I(-3), Value(0.5)}));
  auto rows = t_.Query(
      "SELECT id, doc->>'b' AS b, doc, at, price, small, r, NULL::bigint AS nothing, "
      "jsonb_exists(doc, 'a') AS has_a FROM docs");
  ASSERT_TRUE(rows) << rows.error().message;
  RowView row(*rows, 0);
  EXPECT_EQ(rows->row(0)[0], I(1));
  EXPECT_EQ(row.Text("b"), "x?");
  EXPECT_EQ(row.Text("doc"), R"({"a": 1, "b": "x?"})");
  EXPECT_EQ(row.Text("at"), "2024-05-01 10:00:00+00");  // the session runs in UTC
  EXPECT_EQ(rows->row(0)[4], Value(12.5));
  EXPECT_EQ(rows->row(0)[5], I(-3));
  EXPECT_EQ(rows->row(0)[6], Value(0.5));
  EXPECT_TRUE(row.IsNull("nothing"));
  EXPECT_EQ(rows->row(0)[8], I(1));
}

TEST_F(PostgresDriverTest, SpecialDoublesRoundTrip) {
  const double inf = std::numeric_limits<double>::infinity();
  auto rows = t_.Query("SELECT ? AS a, ? AS b, ? AS c, ? AS d, 1e400::numeric AS big",
                       {Value(inf), Value(-inf), Value(std::nan("")), Value(5e-324)});
  ASSERT_TRUE(rows) << rows.error().message;
  RowView row(*rows, 0);
  EXPECT_EQ(row.Real("a"), inf);
  EXPECT_EQ(row.Real("b"), -inf);
  EXPECT_TRUE(std::isnan(row.Real("c")));
  EXPECT_EQ(row.Real("d"), 5e-324);
  EXPECT_EQ(row.Real("big"), inf);  // beyond double: rounds, never fails
}

TEST_F(PostgresDriverTest, TextWithNulByteIsRejectedNotTruncated) {
  auto rows = t_.Query("SELECT ? AS v", {S(std::string("a\0b", 3))});
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::kInvalidArgument) << rows.error().message;
}

TEST_F(PostgresDriverTest, IgnoredFailureInsideTransactionFailsTheCommit) {
  ASSERT_TRUE(t_.Exec("CREATE TABLE items (id BIGINT PRIMARY KEY)"));
  Status st = t_.db().Transaction([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("INSERT INTO items (id) VALUES (1)"));
    (void)c.Query("INSERT INTO items (id) VALUES (1)");  // fails; the caller ignores it
    return Ok();
  });
  ASSERT_FALSE(st);
  auto rows = t_.Query("SELECT COUNT(*) AS n FROM items");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(RowView(*rows, 0).Int("n"), 0);
}

TEST_F(PostgresDriverTest, StatementCacheSurvivesDeallocateAndSchemaChanges) {
  ASSERT_TRUE(t_.Exec("CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1)"));
  ASSERT_TRUE(t_.db().Read([](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query("SELECT * FROM t WHERE a = ?", {I(1)}));
    PV_RETURN_IF_ERROR(c.ExecScript("DEALLOCATE ALL"));
    PV_RETURN_IF_ERROR(c.Query("SELECT * FROM t WHERE a = ?", {I(1)}));
    PV_RETURN_IF_ERROR(c.ExecScript("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'"));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT * FROM t WHERE a = ?", {I(1)}));
    EXPECT_EQ(rows.columns(), (std::vector<std::string>{"a", "b"}));
    return Ok();
  }));
}

TEST_F(PostgresDriverTest, BrokenConnectionIsReplaced) {
  std::int64_t pid = BackendPid();
  ASSERT_GT(pid, 0);
  // pg_terminate_backend(pid, timeout) waits until the session is gone.
  auto killed =
      t_.scratch().AdminQuery("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 10000)");
  ASSERT_TRUE(killed) << killed.error().message;
  ASSERT_EQ(*killed, "t");
  // A transaction whose BEGIN meets the dead session reconnects and runs.
  std::int64_t tx_pid = -1;
  ASSERT_TRUE(t_.db().Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT pg_backend_pid() AS pid"));
    tx_pid = RowView(rows, 0).Int("pid");
    return Ok();
  }));
  EXPECT_NE(tx_pid, pid);

  // A plain Read cannot know whether its statement ran, so it reports the loss once...
  ASSERT_TRUE(t_.scratch().AdminQuery("SELECT pg_terminate_backend(" + std::to_string(tx_pid) +
                                      ", 10000)"));
  auto lost = t_.Query("SELECT 1");
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable) << lost.error().message;
  // ...and the next one gets a fresh session.
  std::int64_t fresh = BackendPid();
  EXPECT_GT(fresh, 0);
  EXPECT_NE(fresh, tx_pid);
}

TEST_F(PostgresDriverTest, ExhaustedPoolIsUnavailableAfterBusyTimeout) {
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  std::thread holder([&] {
    (void)t_.db().Read([&](Connection&) -> Status {
      holding = true;
      while (!release) std::this_thread::yield();
      return Ok();
    });
  });
  while (!holding) std::this_thread::yield();
  auto rows = t_.Query("SELECT 1");
  release = true;
  holder.join();
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, ErrorCode::kUnavailable) << rows.error().message;
  EXPECT_TRUE(t_.Query("SELECT 1"));  // the session went back to the pool
}

}  // namespace
}  // namespace pixvault::storage::sql
