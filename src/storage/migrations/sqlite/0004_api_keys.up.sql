-- Keys for the HTTP API (`Authorization: Bearer <key>`). Only the key's SHA-256 is stored,
-- unsalted and unstretched on purpose: keys carry 256 random bits, so there is no dictionary
-- to precompute and nothing to slow down, and a plain hash lets authentication look a key up
-- through the unique index. `prefix` (the key's first 12 characters) tells keys apart in
-- listings without revealing enough to use one.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label TEXT NOT NULL CHECK (length(label) <= 200),
  prefix TEXT NOT NULL CHECK (length(prefix) BETWEEN 1 AND 12),
  key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys (user_id);
