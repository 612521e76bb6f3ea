# One image for the web process and the workers: `comments serve` or `comments worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    COMMENTS_INSTANCE_PATH=/app/instance
WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
RUN pip install . && useradd --system --home /app comments \
    && mkdir -p /app/instance /models && chown comments /app/instance /models

USER comments
EXPOSE 8000
# Migrations run once per deployment (compose runs them in the `migrate` service).
CMD ["comments", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
