-- A pipeline created without an image provider gets a real one: the offline provider's placeholders are
-- never published, so it is not a default (the API's default is the same).
ALTER TABLE content_pipelines ALTER COLUMN image_provider SET DEFAULT 'dalle';
