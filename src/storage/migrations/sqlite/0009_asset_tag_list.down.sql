ALTER TABLE assets DROP COLUMN tag_list;
