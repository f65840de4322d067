-- Media analysis (issue 6): one row per asset and analysis step with the analyser version
-- that produced it, so a newer analyser re-runs only the steps whose version changed; the
-- failed steps' messages mirrored onto the asset (assets.analysis_errors, a JSON object
-- step -> message, rewritten by the store with every step row); perceptual hashes with their
-- eight 8-bit bands indexed for near-duplicate lookups (a hash within 7 bits of another
-- shares at least one band with it).
CREATE TABLE asset_analysis (
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  version BIGINT NOT NULL CHECK (version > 0),
  status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
  error TEXT,
  result TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(result)),
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (asset_id, step)
);
ALTER TABLE assets ADD COLUMN analysis_errors TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(analysis_errors));

CREATE TABLE asset_perceptual_hashes (
  asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  phash BIGINT NOT NULL,
  dhash BIGINT NOT NULL
);
-- band_key = 256 * band + the band's value (band i = bits 8i..8i+7 of phash).
CREATE TABLE asset_phash_bands (
  band_key INTEGER NOT NULL CHECK (band_key BETWEEN 0 AND 2047),
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  PRIMARY KEY (band_key, asset_id)
);
CREATE INDEX asset_phash_bands_asset ON asset_phash_bands (asset_id);
