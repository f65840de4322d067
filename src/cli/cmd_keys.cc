// `pixvault key create|ls|revoke`: API keys for the HTTP API.
#include <boost/json.hpp>

#include <iomanip>
#include <ostream>

#include "cli/commands.h"
#include "service/asset_json.h"
#include "service/auth.h"

namespace pixvault::cli {
namespace {

// The user whose keys a command manages: the acting user, or with an admin acting, anyone.
// A non-admin naming someone else is refused before the name is looked up, so the answer
// does not reveal which users exist.
Result<User> KeyOwner(Context& ctx, const std::optional<std::string>& name) {
  PV_ASSIGN_OR_RETURN(User acting, ctx.CurrentUser());
  if (!name || *name == acting.name) return acting;
  if (!acting.is_admin) {
    return Fail(
        ErrorCode::kPermissionDenied,
        "only an admin may manage the API keys of another user (acting as '" + acting.name + "')");
  }
  PV_ASSIGN_OR_RETURN(storage::Store * store, ctx.Store());
  auto user = store->GetUserByName(*name);
  if (!user && user.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, "no user named '" + *name + "' (create it with `pixvault " +
                                          "user create " + *name + "`)");
  }
  return user;
}

// "2026-11-24 05:00" in UTC: minutes are as precise as last_used_at is kept.
std::string ShortTime(const std::optional<Timestamp>& t, const char* none) {
  if (!t) return none;
  std::string s = FormatTimestamp(*t).substr(0, 16);
  if (s.size() > 10) s[10] = ' ';
  return s;
}

}  // namespace

int CmdKeyCreate(Context& ctx, const std::string& user_name, const std::string& label) {
  auto owner = KeyOwner(ctx, user_name);
  if (!owner) return ctx.ReportError(owner.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto issued = service::IssueApiKey(**store, owner->id, label);
  if (!issued) return ctx.ReportError(issued.error());
  const auto& [key, plaintext] = *issued;
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(boost::json::object{{"id", key.id},
                                                         {"user", owner->name},
                                                         {"label", key.label},
                                                         {"prefix", key.prefix},
                                                         {"key", plaintext}})
              << "\n";
    return 0;
  }
  // The key alone goes to stdout, so `KEY=$(pixvault key create alice)` captures just it;
  // the explanation goes to stderr.
  ctx.err() << "created API key #" << key.id << " for " << owner->name
            << (key.label.empty() ? "" : " (" + key.label + ")") << ":" << std::endl;
  ctx.out() << plaintext << std::endl;
  ctx.err() << "It will not be shown again: store it now (pixvault keeps only its SHA-256).\n"
            << "Use it as `Authorization: Bearer <key>`; revoke it with `pixvault key revoke "
            << key.id << "`.\n";
  return 0;
}

int CmdKeyList(Context& ctx, const std::optional<std::string>& user_name) {
  auto owner = KeyOwner(ctx, user_name);
  if (!owner) return ctx.ReportError(owner.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto keys = (*store)->ListApiKeys(owner->id);
  if (!keys) return ctx.ReportError(keys.error());
  if (ctx.options().json) {
    boost::json::array a;
    for (const ApiKey& k : *keys) {
      boost::json::object o = service::ApiKeyToJson(k);
      o["user"] = owner->name;
      a.push_back(std::move(o));
    }
    ctx.out() << service::ToJsonText(boost::json::object{{"keys", std::move(a)}}) << "\n";
    return 0;
  }
  if (keys->empty()) {
    ctx.out() << "no API keys for " << owner->name << " (create one with `pixvault key create "
              << owner->name << "`)\n";
    return 0;
  }
  auto& out = ctx.out();
  out << std::left << std::setw(7) << "ID" << std::setw(14) << "PREFIX" << std::setw(18)
      << "CREATED" << std::setw(18) << "LAST USED" << std::setw(18) << "REVOKED"
      << "LABEL\n";
  for (const ApiKey& k : *keys) {
    out << std::left << std::setw(7) << k.id << std::setw(14) << k.prefix << std::setw(18)
        << ShortTime(k.created_at, "-") << std::setw(18) << ShortTime(k.last_used_at, "never")
        << std::setw(18) << ShortTime(k.revoked_at, "-") << (k.label.empty() ? "-" : k.label)
        << "\n";
  }
  return 0;
}

int CmdKeyRevoke(Context& ctx, std::int64_t id) {
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto key = (*store)->RevokeApiKey(Viewer::For(*user), id);
  if (!key) return ctx.ReportError(key.error());
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(service::ApiKeyToJson(*key)) << "\n";
  } else {
    ctx.out() << "revoked API key #" << key->id << " " << key->prefix
              << (key->label.empty() ? "" : " (" + key->label + ")") << " at "
              << FormatTimestamp(key->revoked_at.value_or(0)) << "\n";
  }
  return 0;
}

}  // namespace pixvault::cli
