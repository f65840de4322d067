-- Tag filters page through one user's tagged assets newest first. Copying the owner and the
-- creation time (both immutable) into asset_tags lets one index serve that in order.
ALTER TABLE asset_tags ADD COLUMN user_id BIGINT;
ALTER TABLE asset_tags ADD COLUMN created_at BIGINT;
UPDATE asset_tags SET
  user_id = (SELECT a.user_id FROM assets a WHERE a.id = asset_tags.asset_id),
  created_at = (SELECT a.created_at FROM assets a WHERE a.id = asset_tags.asset_id);
CREATE INDEX asset_tags_keyset ON asset_tags (kind, tag, user_id, created_at, asset_id);
