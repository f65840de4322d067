#include "testing/postgres.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace pixvault::testing {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConninfoFreer {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

std::string Trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<ConnPtr> ConnectAdmin(const std::string& url) {
  const char* const keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {"10", url.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable,
                "test PostgreSQL: " + Trimmed(conn ? PQerrorMessage(conn.get()) : "no memory"));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

Result<std::string> Exec(PGconn* conn, const std::string& sql) {
  ResultPtr res(PQexec(conn, sql.c_str()));
  auto status = PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ErrorCode::kInternal, sql + ": " + Trimmed(PQresultErrorMessage(res.get())));
  }
  if (status == PGRES_TUPLES_OK && PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0) {
    return std::string(PQgetvalue(res.get(), 0, 0));
  }
  return std::string();
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

// The admin URL with its database replaced: postgresql:///NAME?key=value&... carrying every
// other parameter the admin URL set (host, port, user, password, sslmode...).
Result<std::string> UrlForDatabase(const std::string& admin_url, const std::string& name) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFreer> opts(PQconninfoParse(admin_url.c_str(), &err));
  if (!opts) {
    std::string msg = Trimmed(err);
    PQfreemem(err);
    return Fail(ErrorCode::kInvalidArgument, "PIXVAULT_TEST_PG_URL: " + msg);
  }
  std::string url = "postgresql:///" + name;
  char sep = '?';
  for (PQconninfoOption* o = opts.get(); o->keyword; ++o) {
    if (!o->val || !*o->val || std::string_view(o->keyword) == "dbname") continue;
    url += sep;
    url += o->keyword;
    url += '=';
    url += PercentEncode(o->val);
    sep = '&';
  }
  return url;
}

}  // namespace

std::optional<std::string> TestPostgresUrl() {
  const char* url = std::getenv("PIXVAULT_TEST_PG_URL");
  if (!url || !*url) return std::nullopt;
  return std::string(url);
}

bool PostgresRequired() {
  const char* v = std::getenv("PIXVAULT_REQUIRE_PG");
  return v && std::string_view(v) == "1";
}

Result<std::unique_ptr<ScratchPostgresDatabase>> ScratchPostgresDatabase::Create(
    const std::string& admin_url) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char name[64];
  std::snprintf(name, sizeof(name), "pixvault_t_%ld_%d_%08x", static_cast<long>(::getpid()),
                counter.fetch_add(1), static_cast<unsigned>(rd()));
  PV_ASSIGN_OR_RETURN(std::string url, UrlForDatabase(admin_url, name));
  PV_ASSIGN_OR_RETURN(ConnPtr conn, ConnectAdmin(admin_url));
  PV_RETURN_IF_ERROR(Exec(conn.get(), std::string("CREATE DATABASE \"") + name + "\""));
  return std::unique_ptr<ScratchPostgresDatabase>(
      new ScratchPostgresDatabase(admin_url, name, std::move(url)));
}

ScratchPostgresDatabase::~ScratchPostgresDatabase() {
  auto conn = ConnectAdmin(admin_url_);
  Result<std::string> dropped =
      conn ? Exec(conn->get(), "DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE)")
           : Result<std::string>(Fail(conn.error()));
  if (!dropped)
    ADD_FAILURE() << "dropping scratch database " << name_ << ": " << dropped.error().message;
}

Result<std::string> ScratchPostgresDatabase::AdminQuery(const std::string& sql) {
  PV_ASSIGN_OR_RETURN(ConnPtr conn, ConnectAdmin(admin_url_));
  return Exec(conn.get(), sql);
}

}  // namespace pixvault::testing
