-- An asset's origin ref (provider_asset_id at provider_id, under provider_account_id) stops
-- counting as a copy of its bytes once its provider has said twice, some time apart, that it no
-- longer has it: origin_missing_since is when it first said so (cleared when it has the file
-- again), origin_lost_at when that was confirmed (cleared only by `pixvault cache
-- recheck-origins`).
ALTER TABLE assets ADD COLUMN origin_missing_since BIGINT;
ALTER TABLE assets ADD COLUMN origin_lost_at BIGINT;
