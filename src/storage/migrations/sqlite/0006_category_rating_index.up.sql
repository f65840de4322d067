-- The gallery's most common browse: one category at one rating, newest first. With only
-- (user_id, content_category, ...) the page scans the category and reads every row to test
-- the rating (5 rows read per row kept at a 20% rating share); this index reads only matches.
CREATE INDEX assets_user_category_rating
  ON assets (user_id, content_category, content_rating, created_at, id);
