DROP TABLE asset_clips;
DROP TABLE asset_branch_variants;
DROP TABLE asset_branches;
DROP TABLE asset_lineage;
DROP TABLE asset_temporal_segments;
DROP TABLE asset_adult_metadata;
DROP TABLE asset_audio_metadata;
DROP TABLE asset_3d_metadata;
