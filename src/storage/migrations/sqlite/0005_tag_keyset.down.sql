DROP INDEX asset_tags_keyset;
ALTER TABLE asset_tags DROP COLUMN created_at;
ALTER TABLE asset_tags DROP COLUMN user_id;
