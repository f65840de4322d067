DROP INDEX asset_tags_by_asset;
DROP INDEX assets_user_category_rating;
