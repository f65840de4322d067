-- An asset's origin ref (provider_asset_id at provider_id, under provider_account_id) stops
-- counting as a copy of its bytes once the origin provider answered that it no longer has it
-- (an eviction check or a fetch-back): set then, never cleared.
ALTER TABLE assets ADD COLUMN origin_lost_at BIGINT;
