ALTER TABLE asset_branches DROP COLUMN keyframe_time;
