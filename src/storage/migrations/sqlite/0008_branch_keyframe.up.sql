-- Where a branch point's frame was snapped to: the presentation time of the source's keyframe
-- nearest to the requested time or frame (branch_frame holds its frame number). NULL when the
-- source has no local video bytes to read keyframes from.
ALTER TABLE asset_branches ADD COLUMN keyframe_time REAL;
