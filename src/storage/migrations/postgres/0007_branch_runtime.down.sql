DROP TABLE game_state_variables;
ALTER TABLE asset_branches DROP COLUMN default_variant_id;
ALTER TABLE asset_branches DROP COLUMN hide_at;
ALTER TABLE asset_branches DROP COLUMN show_at;
