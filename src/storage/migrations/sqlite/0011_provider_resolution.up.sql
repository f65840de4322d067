-- Cross-provider resolution (DESIGN section 6): a lease on each provider_uploads row so one
-- process at a time uploads an asset for a (provider, account), the code of the last error
-- (so a permanent refusal is not retried), and a record of every attempt.
ALTER TABLE provider_uploads ADD COLUMN lease_owner TEXT;
ALTER TABLE provider_uploads ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE provider_uploads ADD COLUMN last_error_code TEXT;

CREATE TABLE provider_upload_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  account_id BIGINT NOT NULL REFERENCES provider_accounts(id) ON DELETE CASCADE,
  operation TEXT NOT NULL CHECK (operation IN ('download', 'upload', 'check')),
  outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
  error_code TEXT,
  error TEXT,
  bytes BIGINT NOT NULL DEFAULT 0,
  worker TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL
);
CREATE INDEX provider_upload_attempts_asset
  ON provider_upload_attempts (asset_id, provider_id, account_id, id);
