-- Run once per database by a superuser (the embedded stack does it; in production a DBA does).
-- Roles are created by icop.db.bootstrap (passwords cannot be bound parameters in DDL); this file
-- holds the statements that need superuser rights inside the application database.
CREATE EXTENSION IF NOT EXISTS vector;
ALTER SCHEMA public OWNER TO icop_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO icop_app, icop_auth;
-- icop_auth owns the two sign-in lookup functions (ALTER ... OWNER needs CREATE on the schema).
GRANT CREATE ON SCHEMA public TO icop_auth;
