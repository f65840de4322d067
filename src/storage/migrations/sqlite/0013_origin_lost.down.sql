ALTER TABLE assets DROP COLUMN origin_lost_at;
ALTER TABLE assets DROP COLUMN origin_missing_since;
