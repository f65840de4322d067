-- Per-media metadata tables, temporal segments, lineage, branches, variants and clips.
CREATE TABLE asset_3d_metadata (
  asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  polygon_count BIGINT CHECK (polygon_count >= 0),
  vertex_count BIGINT CHECK (vertex_count >= 0),
  file_format TEXT,
  has_textures BOOLEAN NOT NULL DEFAULT FALSE,
  has_animations BOOLEAN NOT NULL DEFAULT FALSE,
  has_rigging BOOLEAN NOT NULL DEFAULT FALSE,
  has_materials BOOLEAN NOT NULL DEFAULT FALSE,
  material_count BIGINT CHECK (material_count >= 0),
  texture_resolution TEXT,
  bounding_box_size TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(bounding_box_size)),
  extra TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra))
);
CREATE INDEX asset_3d_polygons ON asset_3d_metadata (polygon_count);
CREATE INDEX asset_3d_format ON asset_3d_metadata (file_format);

CREATE TABLE asset_audio_metadata (
  asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  sample_rate BIGINT CHECK (sample_rate > 0),
  channels BIGINT CHECK (channels > 0),
  bitrate BIGINT CHECK (bitrate >= 0),
  codec TEXT,
  bpm DOUBLE PRECISION CHECK (bpm > 0),
  key TEXT,
  has_lyrics BOOLEAN,
  is_speech BOOLEAN,
  language TEXT,
  voice_id TEXT,
  extra TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra))
);
CREATE INDEX asset_audio_bpm ON asset_audio_metadata (bpm);
CREATE INDEX asset_audio_key ON asset_audio_metadata (key);
CREATE INDEX asset_audio_speech ON asset_audio_metadata (is_speech, language);

CREATE TABLE asset_adult_metadata (
  asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  intensity_level TEXT CHECK (intensity_level IN ('warmup', 'moderate', 'heated', 'intense')),
  tempo TEXT CHECK (tempo IN ('slow', 'medium', 'fast', 'varied')),
  scene_type TEXT,
  intimacy_level TEXT,
  body_parts_visible TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(body_parts_visible)),
  clothing_state TEXT,
  positions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(positions)),
  mood TEXT,
  lighting TEXT
);
CREATE INDEX asset_adult_intensity_mood ON asset_adult_metadata (intensity_level, mood);
CREATE INDEX asset_adult_mood ON asset_adult_metadata (mood);

CREATE TABLE asset_temporal_segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  segment_type TEXT NOT NULL,
  timestamp_sec DOUBLE PRECISION NOT NULL CHECK (timestamp_sec >= 0),
  end_sec DOUBLE PRECISION CHECK (end_sec >= timestamp_sec),
  frame_number BIGINT CHECK (frame_number >= 0),
  thumbnail_url TEXT,
  description TEXT,
  objects TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(objects)),
  actions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
  embedding BLOB,
  embedding_model TEXT,
  brightness DOUBLE PRECISION,
  dominant_colors TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(dominant_colors)),
  camera_motion TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX asset_segments_asset_time ON asset_temporal_segments (asset_id, timestamp_sec);
CREATE INDEX asset_segments_type ON asset_temporal_segments (segment_type);

CREATE TABLE asset_lineage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  child_asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  parent_asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  parent_role TEXT NOT NULL,
  operation_type TEXT,
  operation_job_id BIGINT,
  parent_start_time DOUBLE PRECISION CHECK (parent_start_time >= 0),
  parent_end_time DOUBLE PRECISION CHECK (parent_end_time >= 0),
  parent_frame BIGINT CHECK (parent_frame >= 0),
  transformation TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(transformation)),
  sequence_order BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  CHECK (child_asset_id <> parent_asset_id),
  UNIQUE (child_asset_id, parent_asset_id, parent_role, sequence_order)
);
CREATE INDEX asset_lineage_child ON asset_lineage (child_asset_id, sequence_order);
CREATE INDEX asset_lineage_parent ON asset_lineage (parent_asset_id);
CREATE INDEX asset_lineage_job ON asset_lineage (operation_job_id);

CREATE TABLE asset_branches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source_asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  branch_time DOUBLE PRECISION NOT NULL CHECK (branch_time >= 0),
  branch_frame BIGINT CHECK (branch_frame >= 0),
  branch_name TEXT NOT NULL,
  branch_description TEXT,
  branch_tag TEXT,
  branch_type TEXT NOT NULL CHECK (branch_type IN ('manual', 'automatic', 'conditional', 'random')),
  game_metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(game_metadata)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX asset_branches_source ON asset_branches (source_asset_id, branch_time);
CREATE INDEX asset_branches_tag ON asset_branches (user_id, branch_tag);

CREATE TABLE asset_branch_variants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  branch_id BIGINT NOT NULL REFERENCES asset_branches(id) ON DELETE CASCADE,
  variant_asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  variant_name TEXT NOT NULL,
  variant_tag TEXT,
  weight DOUBLE PRECISION NOT NULL DEFAULT 1 CHECK (weight >= 0),
  conditions TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(conditions)),
  effects TEXT NOT NULL DEFAULT 'null' CHECK (json_valid(effects)),
  created_at BIGINT NOT NULL
);
CREATE INDEX asset_variants_branch ON asset_branch_variants (branch_id);
CREATE INDEX asset_variants_asset ON asset_branch_variants (variant_asset_id);

CREATE TABLE asset_clips (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source_asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  start_time DOUBLE PRECISION NOT NULL CHECK (start_time >= 0),
  end_time DOUBLE PRECISION NOT NULL,
  clip_tag TEXT NOT NULL,
  clip_name TEXT,
  extracted_asset_id BIGINT REFERENCES assets(id) ON DELETE SET NULL,
  playback_metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(playback_metadata)),
  created_at BIGINT NOT NULL,
  CHECK (start_time < end_time),
  UNIQUE (source_asset_id, clip_tag)
);
