-- The role the running service uses: it reads and writes rows, nothing more.
-- Run once as a superuser in the service's database (psql variables: owner, app, app_password):
--   psql -v ON_ERROR_STOP=1 -v owner=samverkan -v app=samverkan_app \
--        -v app_password="$APP_DB_PASSWORD" -d samverkan -f app-role.sql
-- The owner runs `samverkan migrate` (it owns the tables); the service runs as the app role,
-- which cannot TRUNCATE, ALTER or DROP anything, so the append-only audit log (migration
-- 0002 refuses UPDATE and DELETE with triggers) cannot be rewritten through it.
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE :"owner" TO :"app";
GRANT USAGE ON SCHEMA public TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
