DROP TABLE asset_pins;
