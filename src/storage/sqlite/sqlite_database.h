// SQLite driver for the sql layer: WAL, foreign keys on, a busy timeout, one writer
// connection (serialised by a mutex, transactions with BEGIN IMMEDIATE) and a pool of reader
// connections. `path` may be ":memory:", in which case one connection serves everything.
// Errors: kUnavailable when the file cannot be opened or created.
#pragma once

#include <memory>
#include <string>

#include "storage/sql/database.h"

namespace pixvault::storage::sql {

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                     const DatabaseOptions& options);

}  // namespace pixvault::storage::sql
