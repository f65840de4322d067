-- What a game runtime needs beyond the seed's branch points: when the choice is offered
-- (show_at..hide_at, seconds into the source), the variant taken on timeout, and typed state
-- variables that variant conditions and effects refer to (one namespace per user).
ALTER TABLE asset_branches ADD COLUMN show_at DOUBLE PRECISION;
ALTER TABLE asset_branches ADD COLUMN hide_at DOUBLE PRECISION;
ALTER TABLE asset_branches ADD COLUMN default_variant_id BIGINT
  REFERENCES asset_branch_variants(id) ON DELETE SET NULL;

CREATE TABLE game_state_variables (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  var_type TEXT NOT NULL CHECK (var_type IN ('bool', 'int', 'string')),
  initial_value TEXT CHECK (initial_value IS NULL OR json_valid(initial_value)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (user_id, name)
);
