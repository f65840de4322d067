-- Where each asset was uploaded on other providers, and the durable job queue.
CREATE TABLE provider_uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES provider_accounts(id) ON DELETE CASCADE,
  provider_ref TEXT,
  provider_url TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'uploaded', 'failed', 'expired')),
  uploaded_at BIGINT,
  expires_at BIGINT,
  last_error TEXT,
  attempts BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  UNIQUE (asset_id, provider_id, account_id)
);
CREATE INDEX provider_uploads_ref ON provider_uploads (provider_id, provider_ref);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
  idempotency_key TEXT UNIQUE,
  status TEXT NOT NULL
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
  priority BIGINT NOT NULL DEFAULT 0,
  payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload)),
  result TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(result)),
  attempts BIGINT NOT NULL DEFAULT 0,
  max_attempts BIGINT NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  run_after BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, priority, run_after, id);
CREATE INDEX jobs_lease ON jobs (status, lease_expires_at);
CREATE INDEX jobs_user ON jobs (user_id, created_at);
