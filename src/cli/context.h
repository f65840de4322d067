// State shared by CLI commands: global options, the opened store and blob store, the user
// the command acts as, and output helpers. One per process invocation; not thread-safe.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "blob/blob_store.h"
#include "blob/env.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::cli {

struct GlobalOptions {
  std::string data_dir = "./pixvault-data";
  std::string db;  // default: sqlite inside the data dir
  std::string user = "local";
  bool json = false;
};

// Process exit codes, one per ErrorCode (documented in the README).
int ExitCodeFor(ErrorCode code);
inline constexpr int kExitPartialFailure = 1;

class Context {
 public:
  Context(GlobalOptions options, std::ostream& out, std::ostream& err)
      : options_(std::move(options)), out_(out), err_(err) {}

  const GlobalOptions& options() const { return options_; }
  // Points the context at another data dir and database; only before Store()/Blobs().
  void SetStorage(std::string data_dir, std::string db) {
    options_.data_dir = std::move(data_dir);
    options_.db = std::move(db);
  }
  // The database's connection pool (storage::StoreOptions::pool_size); only before Store().
  void SetDatabasePool(int connections) { pool_size_ = connections; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const Clock& clock() const { return clock_; }

  // The database URL the options name.
  std::string DatabaseUrl() const;
  // Opens (and migrates, unless `migrate` is false) the store; creates the data dir for the
  // default SQLite database.
  Result<storage::Store*> Store(bool migrate = true);
  Result<blob::BlobStore*> Blobs();
  // The user commands act as. The default user "local" is created on first use as an admin
  // allowed to see adult content (it owns everything imported from this machine's CLI).
  Result<User> CurrentUser();

  // Prints an error: JSON `{"error": {...}}` on stdout with --json, a line on stderr
  // otherwise. Returns the exit code for it.
  int ReportError(const Error& error);
  void PrintJson(const boost::json::value& value);

 private:
  GlobalOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  SystemClock clock_;
  blob::PosixEnv env_;
  int pool_size_ = storage::StoreOptions{}.pool_size;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::optional<User> user_;
};

// Indented JSON for humans.
std::string PrettyJson(const boost::json::value& value);

}  // namespace pixvault::cli
