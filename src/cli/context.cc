#include "cli/context.h"

#include <boost/json.hpp>

#include <ostream>

#include "service/asset_json.h"

namespace pixvault::cli {

int ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 2;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kAlreadyExists:
      return 4;
    case ErrorCode::kPermissionDenied:
      return 5;
    case ErrorCode::kUnavailable:
      return 6;
    case ErrorCode::kCorrupt:
      return 7;
    case ErrorCode::kUnsupported:
      return 8;
    case ErrorCode::kInternal:
      return 1;
  }
  return 1;
}

std::string Context::DatabaseUrl() const {
  if (!options_.db.empty()) return options_.db;
  std::filesystem::path p = std::filesystem::absolute(options_.data_dir) / "pixvault.db";
  return "sqlite://" + p.lexically_normal().string();
}

Result<storage::Store*> Context::Store(bool migrate) {
  if (store_) return store_.get();
  if (options_.db.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return Fail(ErrorCode::kUnavailable,
                  "cannot create data dir " + options_.data_dir + ": " + ec.message());
    }
  }
  storage::StoreOptions so;
  so.migrate = migrate;
  so.pool_size = pool_size_;
  auto store = storage::OpenStore(DatabaseUrl(), clock_, so);
  if (!store) return Fail(store.error());
  store_ = std::move(*store);
  return store_.get();
}

Result<blob::BlobStore*> Context::Blobs() {
  if (blobs_) return blobs_.get();
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return Fail(ErrorCode::kUnavailable,
                "cannot create data dir " + options_.data_dir + ": " + ec.message());
  }
  auto blobs = blob::FsBlobStore::Create(env_, options_.data_dir);
  if (!blobs) return Fail(blobs.error());
  blobs_ = std::move(*blobs);
  return blobs_.get();
}

Result<User> Context::CurrentUser() {
  if (user_) return *user_;
  PV_ASSIGN_OR_RETURN(storage::Store * store, Store());
  auto found = store->GetUserByName(options_.user);
  if (!found && found.error().code == ErrorCode::kNotFound && options_.user == "local") {
    auto created = store->CreateUser(User{0, "local", true, true, 0});
    // Another process may have created it at the same moment.
    if (!created && created.error().code == ErrorCode::kAlreadyExists) {
      found = store->GetUserByName("local");
    } else {
      found = created;
    }
  }
  if (!found) {
    if (found.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "no user named '" + options_.user +
                                            "' (create it with `pixvault user create " +
                                            options_.user + "`)");
    }
    return Fail(found.error());
  }
  user_ = *found;
  return *user_;
}

int Context::ReportError(const Error& error) {
  if (options_.json) {
    out_ << service::ToJsonText(boost::json::object{{"error", service::ErrorToJson(error)}})
         << "\n";
  } else {
    err_ << "pixvault: " << error.message << "\n";
  }
  return ExitCodeFor(error.code);
}

void Context::PrintJson(const boost::json::value& value) {
  if (options_.json) {
    out_ << service::ToJsonText(value) << "\n";
  } else {
    out_ << PrettyJson(value) << "\n";
  }
}

std::string PrettyJson(const boost::json::value& value) { return service::ToJsonText(value, true); }

}  // namespace pixvault::cli
