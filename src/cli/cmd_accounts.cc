// `pixvault account add|ls|rm`: the acting user's accounts on providers.
#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "service/asset_json.h"
#include "service/provider_accounts.h"

namespace pixvault::cli {
namespace {

namespace json = boost::json;

// The credentials JSON object from a file, or from standard input for "-" (so a secret never
// has to appear on a command line, where other users could read it in the process list).
Result<json::object> ReadCredentials(const std::string& source) {
  std::string text;
  if (source == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    text = s.str();
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "cannot read credentials file " + source);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  std::fill(text.begin(), text.end(), '\0');
  if (ec || !v.is_object()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the credentials must be a JSON object of strings, e.g. {\"api_key\": \"...\"}");
  }
  return std::move(v.as_object());
}

Result<json::object> ParseSettings(const std::vector<std::string>& settings) {
  json::object out;
  for (const std::string& s : settings) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(ErrorCode::kInvalidArgument, "--setting takes NAME=VALUE, not '" + s + "'");
    }
    // true/false are booleans (e.g. allow_downscale=true); anything else is text.
    const std::string value = s.substr(eq + 1);
    if (value == "true" || value == "false") {
      out[s.substr(0, eq)] = value == "true";
    } else {
      out[s.substr(0, eq)] = value;
    }
  }
  return out;
}

}  // namespace

int CmdAccountAdd(Context& ctx, const AccountAddOptions& options) {
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto cipher = service::LoadCredentialCipher(ctx.options().data_dir, &std::getenv);
  if (!cipher) return ctx.ReportError(cipher.error());
  auto credentials = ReadCredentials(options.credentials_file);
  if (!credentials) return ctx.ReportError(credentials.error());
  auto settings = ParseSettings(options.settings);
  if (!settings) return ctx.ReportError(settings.error());
  service::NewProviderAccount account;
  account.provider_id = options.provider;
  account.label = options.label;
  account.credentials = std::move(*credentials);
  account.settings = std::move(*settings);
  auto created = service::AddProviderAccount(**store, *cipher, user->id, std::move(account));
  if (!created) return ctx.ReportError(created.error());
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(service::ProviderAccountToJson(*created)) << "\n";
  } else {
    ctx.out() << "added account #" << created->id << " on " << created->provider_id << " ("
              << created->label << ") for " << user->name
              << "; its credentials are stored encrypted and will not be shown again\n";
  }
  return 0;
}

int CmdAccountList(Context& ctx) {
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  Viewer own = Viewer::For(*user);
  own.is_admin = false;  // the acting user's own accounts, admins included
  auto accounts = (*store)->ListProviderAccounts(own);
  if (!accounts) return ctx.ReportError(accounts.error());
  if (ctx.options().json) {
    json::array items;
    for (const ProviderAccount& a : *accounts) items.push_back(service::ProviderAccountToJson(a));
    ctx.out() << service::ToJsonText(json::object{{"items", std::move(items)}}) << "\n";
    return 0;
  }
  if (accounts->empty()) {
    ctx.out() << "no provider accounts for " << user->name
              << " (add one with `pixvault account add PROVIDER LABEL --credentials-file -`)\n";
    return 0;
  }
  auto& out = ctx.out();
  out << std::left << std::setw(7) << "ID" << std::setw(20) << "PROVIDER" << std::setw(9)
      << "ENABLED" << std::setw(22) << "CREATED"
      << "LABEL\n";
  for (const ProviderAccount& a : *accounts) {
    out << std::left << std::setw(7) << a.id << std::setw(20) << a.provider_id << std::setw(9)
        << (a.enabled ? "yes" : "no") << std::setw(22)
        << FormatTimestamp(a.created_at).substr(0, 19) << a.label << "\n";
  }
  return 0;
}

int CmdAccountRemove(Context& ctx, std::int64_t id) {
  auto user = ctx.CurrentUser();
  if (!user) return ctx.ReportError(user.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto removed = (*store)->DeleteProviderAccount(Viewer::For(*user), id);
  if (!removed) return ctx.ReportError(removed.error());
  if (ctx.options().json) {
    ctx.out() << service::ToJsonText(json::object{{"id", id}, {"deleted", true}}) << "\n";
  } else {
    ctx.out() << "removed provider account #" << id << " and its credentials\n";
  }
  return 0;
}

}  // namespace pixvault::cli
