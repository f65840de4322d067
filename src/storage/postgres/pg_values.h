// Conversion between sql::Value and libpq's text/binary wire forms. Internal to the
// PostgreSQL driver; the type mapping is documented in postgres_database.h.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storage/sql/database.h"

namespace pixvault::storage::sql {

// Parameters in the form PQprepare/PQexecPrepared take. Text values live in `text`; bytea is
// sent binary, pointing into the caller's Value.
struct BoundParams {
  std::vector<Oid> types;
  std::vector<std::string> text;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::string signature;  // one letter per parameter type, part of the statement cache key
};

// Fills `b` in place: `b.values` points into `b.text` and into `params`, so neither may move
// or change while `b` is in use.
void Bind(std::span<const Value> params, BoundParams& b);

// Converts a PGRES_TUPLES_OK/PGRES_COMMAND_OK result (text format) to Rows. Errors:
// kInternal if the server sent a value that does not parse as its column type.
Result<Rows> ToRows(const PGresult* res);

// PQcmdTuples as a number; 0 for commands that affect no rows.
std::int64_t AffectedRows(PGresult* res);

}  // namespace pixvault::storage::sql
