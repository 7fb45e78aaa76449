-- PostgreSQL: the app's role may append to the audit log and read it, never erase it.
--
-- Run as the role that ran the migrations and owns the tables (never as the app's role):
--
--   psql -v ON_ERROR_STOP=1 -v app_role=cc_app -v schema=public -f scripts/audit_pg_roles.sql
--
-- The app then connects as `app_role` (CC_DATABASE_URL). That role owns no table, trigger
-- or function, so it cannot TRUNCATE, ALTER TABLE ... DISABLE TRIGGER, DROP TRIGGER or DROP
-- TABLE; on cc_audit it has INSERT and SELECT only (UPDATE and DELETE are refused by the
-- privileges and by the triggers of migrations 0300 and 0820), plus USAGE on the id sequence.
-- cc_audit_head (the chain's count and last hash, tagged with the audit key) it may read,
-- insert and update, never delete. Run the migrations as the owner (`alembic upgrade` /
-- `command-center seed` with the owner's URL), then this script again after each upgrade
-- that adds tables.
\set ON_ERROR_STOP 1
SET search_path TO :"schema";

-- the app's role creates nothing in the schema
REVOKE CREATE ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"schema" TO :"app_role";

-- every other table: the app reads and writes its data as usual
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app_role";

-- the audit log: append and read only
REVOKE ALL ON cc_audit, cc_audit_head FROM PUBLIC;
REVOKE ALL ON cc_audit, cc_audit_head FROM :"app_role";
GRANT SELECT, INSERT ON cc_audit TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON cc_audit_head TO :"app_role";
REVOKE ALL ON SEQUENCE cc_audit_id_seq FROM :"app_role";
GRANT USAGE ON SEQUENCE cc_audit_id_seq TO :"app_role";
