-- Tag filters page through one user's tagged assets newest first. Copying the owner and the
-- creation time (both immutable) into asset_tags lets one index serve that in order.
ALTER TABLE asset_tags ADD COLUMN user_id BIGINT, ADD COLUMN created_at BIGINT;
UPDATE asset_tags t SET user_id = a.user_id, created_at = a.created_at
  FROM assets a WHERE a.id = t.asset_id;
CREATE INDEX asset_tags_keyset ON asset_tags (kind, tag, user_id, created_at, asset_id);
