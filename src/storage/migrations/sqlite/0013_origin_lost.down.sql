ALTER TABLE assets DROP COLUMN origin_lost_at;
