DROP TABLE provider_upload_attempts;
ALTER TABLE provider_uploads DROP COLUMN last_error_code;
ALTER TABLE provider_uploads DROP COLUMN lease_expires_at;
ALTER TABLE provider_uploads DROP COLUMN lease_owner;
