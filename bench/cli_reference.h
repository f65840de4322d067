// Times statements run by the database's own shell (sqlite3, psql): the reference the store
// benchmark compares itself with.
//
// Each iteration is a list of literal statements (see sql_literal.h). The shells discard
// result rows. Errors: kUnavailable when the tool cannot run or reports an error.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace pixvault::bench {

using Iterations = std::vector<std::vector<std::string>>;

struct ShellTiming {
  std::string tool;
  // Per-iteration times in milliseconds when the tool reports them (psql's \timing), else
  // empty; mean_ms is always set.
  std::vector<double> per_iteration_ms;
  double mean_ms = 0;
};

// Runs all iterations in one `sqlite3` session, `repeats` times, and an empty session (open,
// load the schema) as many times; mean = (median full session - median empty session) /
// iterations. sqlite3's own `.timer` has only millisecond resolution, hence the batch.
Result<ShellTiming> TimeSqliteShell(const std::string& db_path, const Iterations& iterations,
                                    int repeats);

// Runs all iterations in one `psql` session with \timing and sums the reported statement
// times per iteration (client-side wall time per statement, results transferred, not printed).
Result<ShellTiming> TimePsql(const std::string& url, const Iterations& iterations);

}  // namespace pixvault::bench
