-- The local cache (DESIGN section 5): pinned assets, whose bytes are never evicted. The
-- eviction decision itself needs no new column: a blob is local while an asset of it is
-- `downloaded`, and eviction marks the blob's assets `remote` in the transaction that
-- removes the file.
CREATE TABLE asset_pins (
  asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  pinned_by BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  pinned_at BIGINT NOT NULL
);
