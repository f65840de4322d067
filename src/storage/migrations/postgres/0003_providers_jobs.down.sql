DROP TABLE jobs;
DROP TABLE provider_uploads;
