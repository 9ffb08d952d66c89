-- A role and a database for listwatch (run as a superuser: psql -f setup.sql).
-- The schema is created by listwatch itself on first use (Alembic migrations).
CREATE ROLE listwatch LOGIN;  -- then: \password listwatch, or peer/cert authentication
CREATE DATABASE listwatch OWNER listwatch ENCODING 'UTF8' TEMPLATE template0;
-- Web requests are short; batch jobs (imports, Spark loads) run as the same role from
-- their own hosts, so the limit is per database session, set by the web service:
--   LISTWATCH_DB=postgresql://listwatch@db/listwatch?options=-c%20statement_timeout%3D60s
