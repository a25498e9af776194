# samverkan: one process serving the web app, the Telegram bot and scheduled jobs.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SAMVERKAN_HOST=0.0.0.0 SAMVERKAN_DATA_DIR=/data
RUN useradd --system --uid 10001 --home /app samverkan && mkdir -p /data && chown samverkan /data
WORKDIR /app
# Installed like any package (not editable), from a source copy removed afterwards: templates,
# static files, translations, consent texts, the built-in surveys and the migrations are package
# data. The förbund's own survey files go in /data/surveys (SAMVERKAN_SURVEYS_DIR).
COPY pyproject.toml README.md /src/
COPY core /src/core
COPY reports /src/reports
COPY services /src/services
COPY storage /src/storage
COPY intake /src/intake
COPY bot /src/bot
COPY app /src/app
RUN pip install --no-compile /src && rm -rf /src
USER samverkan
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
# Migrations first (safe to run on every start: Alembic is idempotent), then serve.
CMD ["sh", "-c", "samverkan migrate && exec samverkan serve"]
