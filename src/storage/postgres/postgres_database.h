// PostgreSQL driver for the sql layer (libpq).
//
// A Database is a pool of up to `options.pool_size` connections, opened lazily and replaced
// when found broken. Every Query runs as a prepared statement, cached per connection by SQL
// text and parameter types. Sessions use UTF-8, time zone UTC and application_name "pixvault"
// (unless the URL says otherwise); `connect_timeout` defaults to 5 seconds.
//
// Parameters: int64 -> int8, double -> float8, bool -> boolean, Bytes -> bytea (binary),
// string and NULL -> "unknown", so the server infers the type from context (text, jsonb,
// timestamptz...). Results: int2/int4/int8/oid -> int64, float4/float8/numeric -> double,
// boolean -> int64 0/1, bytea -> Bytes, NULL -> monostate, anything else -> its text form.
//
// Errors, by SQLSTATE: 23505 -> kAlreadyExists; other integrity violations (23xxx) and data
// exceptions (22xxx) -> kInvalidArgument; lost connections (08xxx), shutdowns (57P0x),
// resource exhaustion (53xxx), lock timeouts, cancellations and serialization failures or
// deadlocks outside a retried Transaction -> kUnavailable; everything else -> kInternal.
// Messages carry the server's primary message, never the password.
//
// Thread-safe: the Database may be shared by any number of threads; each Connection handed to
// `work` is used by that thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "storage/sql/database.h"

namespace pixvault::storage::sql {

// Connects to the server at `url`, a libpq connection URI ("postgresql://user@host:5432/db",
// "postgresql://postgres@/db?host=/run/postgresql") or key=value string, and returns a pool
// holding that one checked connection. Errors: kInvalidArgument for a malformed URL,
// kUnavailable when the server cannot be reached or refuses the login (the message names
// host, port and database).
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                       const DatabaseOptions& options);

// Rewrites `?` placeholders to `$1..$n` and sets `*count` to n. A `?` inside a string
// literal ('..', E'..', $tag$..$tag$), a quoted identifier or a comment is left alone.
// PostgreSQL's own `?`, `?|` and `?&` jsonb operators therefore cannot appear outside a
// literal; use jsonb_exists()/jsonb_exists_any()/jsonb_exists_all() instead.
// Exposed for tests.
std::string RewritePlaceholders(std::string_view sql, int* count);

}  // namespace pixvault::storage::sql
