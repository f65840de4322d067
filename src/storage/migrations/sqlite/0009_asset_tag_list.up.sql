-- Each asset row carries its tags, so a page of assets needs no lookup per tag: entries
-- "<kind>,<position>,<byte length>:<tag>" concatenated (any order; the store sorts by kind
-- and position), maintained by the store whenever it writes asset_tags, which stays the
-- source for tag filters.
ALTER TABLE assets ADD COLUMN tag_list TEXT NOT NULL DEFAULT '';
UPDATE assets SET tag_list = COALESCE((SELECT group_concat(t.kind || ',' || t.position || ',' ||
  length(CAST(t.tag AS BLOB)) || ':' || t.tag, '') FROM asset_tags t WHERE t.asset_id = assets.id), '');
