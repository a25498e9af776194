#!/bin/sh
# Run by the postgres image on first start (mounted into /docker-entrypoint-initdb.d/).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner="$POSTGRES_USER" -v app=samverkan_app -v app_password="$APP_DB_PASSWORD" \
  -f /deploy/app-role.sql
