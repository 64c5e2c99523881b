# The API image: the locked dependencies, then the project. compose.yaml runs it twice: once as
# `nrm db upgrade` (service migrate, as the schema owner), then as the API (as nrm_app).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY workflows ./workflows
COPY schemas ./schemas
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 nrm
USER nrm
EXPOSE 8000
CMD ["nrm", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
