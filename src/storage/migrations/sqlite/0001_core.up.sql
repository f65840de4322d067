-- Users, bytes, provider accounts and assets with their tag and taxonomy indexes.
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
  is_admin BOOLEAN NOT NULL DEFAULT FALSE,
  allow_adult BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL
);

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
  size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
  refcount BIGINT NOT NULL DEFAULT 0 CHECK (refcount >= 0),
  location TEXT NOT NULL DEFAULT 'local',
  created_at BIGINT NOT NULL
);

CREATE TABLE provider_accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  label TEXT NOT NULL,
  credentials_encrypted BLOB NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at BIGINT NOT NULL,
  UNIQUE (user_id, provider_id, label)
);

CREATE TABLE assets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  media_type TEXT NOT NULL CHECK (media_type IN ('video', 'image', 'audio', '3d_model')),
  provider_id TEXT NOT NULL,
  provider_asset_id TEXT,
  provider_account_id BIGINT REFERENCES provider_accounts(id) ON DELETE SET NULL,
  remote_url TEXT,
  original_source_url TEXT,
  original_filename TEXT,
  upload_method TEXT NOT NULL
    CHECK (upload_method IN ('extension', 'api', 'web', 'mobile', 'cli', 'provider')),
  sync_status TEXT NOT NULL
    CHECK (sync_status IN ('remote', 'downloading', 'downloaded', 'error')),
  sha256 TEXT REFERENCES blobs(sha256),
  file_size_bytes BIGINT CHECK (file_size_bytes >= 0),
  mime_type TEXT,
  width BIGINT CHECK (width > 0),
  height BIGINT CHECK (height > 0),
  duration_sec DOUBLE PRECISION CHECK (duration_sec >= 0),
  fps DOUBLE PRECISION CHECK (fps > 0),
  description TEXT,
  embedding BLOB,
  embedding_model TEXT,
  content_domain TEXT NOT NULL DEFAULT 'general'
    CHECK (content_domain IN ('general', 'adult', 'medical', 'sports', 'fashion', 'education')),
  content_category TEXT,
  content_taxonomy TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(content_taxonomy)),
  content_rating TEXT NOT NULL DEFAULT 'general'
    CHECK (content_rating IN ('general', 'mature', 'adult', 'explicit')),
  age_restricted BOOLEAN NOT NULL DEFAULT FALSE,
  searchable BOOLEAN NOT NULL DEFAULT TRUE,
  media_metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(media_metadata)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_accessed_at BIGINT
);
CREATE INDEX assets_user_created ON assets (user_id, created_at, id);
CREATE INDEX assets_user_category ON assets (user_id, content_category, created_at, id);
CREATE INDEX assets_user_rating ON assets (user_id, content_rating, created_at, id);
CREATE INDEX assets_user_media_type ON assets (user_id, media_type, created_at, id);
CREATE INDEX assets_user_domain ON assets (user_id, content_domain, created_at, id);
CREATE INDEX assets_category ON assets (content_category, created_at, id);
CREATE INDEX assets_created ON assets (created_at, id);
CREATE INDEX assets_sha256 ON assets (sha256);
CREATE INDEX assets_provider ON assets (provider_id, provider_asset_id);
CREATE INDEX assets_last_accessed ON assets (last_accessed_at);
-- One asset per (user, bytes) for uploads; provider generations may repeat bytes.
CREATE UNIQUE INDEX assets_user_sha256_upload ON assets (user_id, sha256)
  WHERE upload_method <> 'provider';

CREATE TABLE asset_tags (
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('tag', 'style')),
  tag TEXT NOT NULL,
  position BIGINT NOT NULL,
  PRIMARY KEY (asset_id, kind, tag)
);
CREATE INDEX asset_tags_lookup ON asset_tags (kind, tag, asset_id);

-- content_taxonomy flattened to (dotted path, leaf value) so taxonomy filters use an index.
CREATE TABLE asset_taxonomy (
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (asset_id, path, value)
);
CREATE INDEX asset_taxonomy_lookup ON asset_taxonomy (path, value, asset_id);
