// `pixvault db ...`, `fsck`, `user ...`.
#include <boost/json.hpp>

#include <iomanip>
#include <ostream>

#include "cli/commands.h"
#include "service/asset_json.h"
#include "service/assets.h"
#include "storage/migrations/migrator.h"
#include "storage/sql/database.h"

namespace pixvault::cli {
namespace {

// Runs `fn` with a migrator on the configured database (no automatic migration).
template <class Fn>
int WithMigrator(Context& ctx, Fn fn) {
  if (ctx.options().db.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(ctx.options().data_dir, ec);
  }
  auto db = storage::sql::OpenDatabase(ctx.DatabaseUrl());
  if (!db) return ctx.ReportError(db.error());
  storage::Migrator migrator(**db, ctx.clock());
  return fn(migrator);
}

boost::json::array Versions(const std::vector<std::int64_t>& v) {
  boost::json::array a;
  for (auto x : v) a.push_back(x);
  return a;
}

int PrintMigrationResult(Context& ctx, storage::Migrator& m, const char* verb,
                         const Result<std::vector<std::int64_t>>& r) {
  if (!r) return ctx.ReportError(r.error());
  auto now = m.CurrentVersion();
  if (!now) return ctx.ReportError(now.error());
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(boost::json::object{{verb, Versions(*r)}, {"version", *now}})
              << "\n";
  } else if (r->empty()) {
    ctx.out() << "nothing to do; schema version " << *now << "\n";
  } else {
    for (auto v : *r) ctx.out() << verb << " migration " << v << "\n";
    ctx.out() << "schema version " << *now << "\n";
  }
  return 0;
}

}  // namespace

int CmdDbUpgrade(Context& ctx, std::optional<std::int64_t> target) {
  return WithMigrator(ctx, [&](storage::Migrator& m) {
    return PrintMigrationResult(ctx, m, "applied", m.Upgrade(target));
  });
}

int CmdDbDowngrade(Context& ctx, std::optional<std::int64_t> target) {
  return WithMigrator(ctx, [&](storage::Migrator& m) {
    std::int64_t to = 0;
    if (target) {
      to = *target;
    } else {
      auto now = m.CurrentVersion();
      if (!now) return ctx.ReportError(now.error());
      if (*now == 0) {
        return ctx.ReportError(Error{ErrorCode::kInvalidArgument,
                                     "schema is already at version 0; nothing to downgrade"});
      }
      to = *now - 1;
    }
    return PrintMigrationResult(ctx, m, "reverted", m.Downgrade(to));
  });
}

int CmdDbStatus(Context& ctx) {
  return WithMigrator(ctx, [&](storage::Migrator& m) {
    auto states = m.List();
    if (!states) return ctx.ReportError(states.error());
    if (ctx.options().json) {
      boost::json::array a;
      for (const auto& s : *states) {
        a.push_back(
            boost::json::object{{"version", s.version}, {"name", s.name}, {"applied", s.applied}});
      }
      ctx.out() << service::ToJsonText(boost::json::object{{"migrations", a}}) << "\n";
      return 0;
    }
    ctx.out() << "database " << ctx.DatabaseUrl() << "\n";
    for (const auto& s : *states) {
      ctx.out() << (s.applied ? "  [x] " : "  [ ] ") << std::setw(4) << std::setfill('0')
                << s.version << std::setfill(' ') << " " << s.name;
      if (s.applied_at) ctx.out() << "  (applied " << FormatTimestamp(*s.applied_at) << ")";
      ctx.out() << "\n";
    }
    return 0;
  });
}

int CmdFsck(Context& ctx, const FsckCliOptions& o) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  service::FsckOptions options;
  options.repair = o.repair;
  options.verify_content = o.verify;
  const blob::DerivedFiles derived(ctx.options().data_dir);
  options.derived = &derived;
  auto report = service::Fsck(**store, **blobs, ctx.clock(), options);
  if (!report) return ctx.ReportError(report.error());
  auto list = [](const std::vector<std::string>& v) {
    boost::json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(
                     boost::json::object{{"clean", report->clean()},
                                         {"blobs_checked", report->blobs_checked},
                                         {"missing_files", list(report->missing_files)},
                                         {"orphan_files", list(report->orphan_files)},
                                         {"corrupt_files", list(report->corrupt_files)},
                                         {"unreferenced_rows", list(report->unreferenced_rows)},
                                         {"stray_paths", list(report->stray_paths)},
                                         {"refcounts_fixed", report->refcounts_fixed},
                                         {"evicted_blobs", report->evicted_blobs},
                                         {"assets_marked_error", report->assets_marked_error},
                                         {"orphans_removed", report->orphans_removed},
                                         {"rows_removed", report->rows_removed},
                                         {"derived_orphans", list(report->derived_orphans)},
                                         {"derived_temps", report->derived_temps},
                                         {"derived_strays", list(report->derived_strays)},
                                         {"derived_removed", report->derived_removed},
                                         {"repaired", o.repair}})
              << "\n";
  } else {
    auto& out = ctx.out();
    out << "checked " << report->blobs_checked << " blobs\n";
    for (const auto& s : report->missing_files) out << "missing file for blob " << s << "\n";
    for (const auto& s : report->orphan_files) out << "file without a row: " << s << "\n";
    for (const auto& s : report->corrupt_files) out << "corrupt content: " << s << "\n";
    for (const auto& s : report->unreferenced_rows) out << "unreferenced blob row: " << s << "\n";
    for (const auto& s : report->stray_paths) out << "stray path: " << s << "\n";
    for (const auto& s : report->derived_orphans) {
      out << "derived file of bytes that are gone: " << s << "\n";
    }
    if (report->derived_temps) {
      out << report->derived_temps << " stale temp files among the derived files\n";
    }
    for (const auto& s : report->derived_strays) out << "stray derived path: " << s << "\n";
    if (report->refcounts_fixed) out << "fixed " << report->refcounts_fixed << " refcounts\n";
    if (o.repair) {
      out << "repaired: removed " << report->orphans_removed << " orphan files and "
          << report->rows_removed << " unreferenced rows and " << report->derived_removed
          << " stale derived files; marked " << report->assets_marked_error
          << " assets with missing bytes as error\n";
    }
    out << (report->clean() ? "clean\n"
                            : (o.repair ? "repaired\n" : "problems found (run with --repair)\n"));
  }
  return report->clean() || o.repair ? 0 : kExitPartialFailure;
}

int CmdUserCreate(Context& ctx, const std::string& name, bool admin, bool allow_adult) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto user = (*store)->CreateUser(User{0, name, admin, allow_adult, 0});
  if (!user) return ctx.ReportError(user.error());
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(boost::json::object{{"id", user->id},
                                                         {"name", user->name},
                                                         {"is_admin", user->is_admin},
                                                         {"allow_adult", user->allow_adult}})
              << "\n";
  } else {
    ctx.out() << "created user #" << user->id << " " << user->name << "\n";
  }
  return 0;
}

int CmdUserList(Context& ctx) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto users = (*store)->ListUsers();
  if (!users) return ctx.ReportError(users.error());
  boost::json::array a;
  for (const User& u : *users) {
    if (ctx.options().json) {
      a.push_back(boost::json::object{{"id", u.id},
                                      {"name", u.name},
                                      {"is_admin", u.is_admin},
                                      {"allow_adult", u.allow_adult}});
    } else {
      ctx.out() << "#" << u.id << " " << u.name << (u.is_admin ? " admin" : "")
                << (u.allow_adult ? " allow-adult" : "") << "\n";
    }
  }
  if (ctx.options().json)
    ctx.out() << service::ToJsonText(boost::json::object{{"users", a}}) << "\n";
  return 0;
}

}  // namespace pixvault::cli
