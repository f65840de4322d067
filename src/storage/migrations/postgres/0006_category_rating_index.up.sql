-- The gallery's most common browse: one category at one rating, newest first. With only
-- (user_id, content_category, ...) the page scans the category and reads every row to test
-- the rating (5 rows read per row kept at a 20% rating share); this index reads only matches.
CREATE INDEX assets_user_category_rating
  ON assets (user_id, content_category, content_rating, created_at, id);

-- Every list page loads the tags of its assets by asset id; with position and tag in the
-- index, that is read from the index alone, already in order.
CREATE INDEX asset_tags_by_asset ON asset_tags (asset_id, kind, position, tag);
