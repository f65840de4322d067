DROP TABLE asset_taxonomy;
DROP TABLE asset_tags;
DROP TABLE assets;
DROP TABLE provider_accounts;
DROP TABLE blobs;
DROP TABLE users;
