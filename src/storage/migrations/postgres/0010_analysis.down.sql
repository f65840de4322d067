DROP TABLE asset_phash_bands;
DROP TABLE asset_perceptual_hashes;
ALTER TABLE assets DROP COLUMN analysis_errors;
DROP TABLE asset_analysis;
