// Turns a parameterized statement into literal SQL text for the sqlite3 and psql shells.
//
// Benchmark-only: the parameters come from the benchmark's own synthetic data, never from a
// user. `?` placeholders outside quoted strings, quoted identifiers and comments are replaced
// in order; the result ends with ";".
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "storage/sql/database.h"

namespace pixvault::bench {

// kInvalidArgument when the number of placeholders differs from params.size().
Result<std::string> InlineParameters(std::string_view sql,
                                     std::span<const storage::sql::Value> params,
                                     storage::sql::Dialect dialect);

}  // namespace pixvault::bench
