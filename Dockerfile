# One image for every BatchLab process; the command picks the role:
#   API        uvicorn api.main:app --host 0.0.0.0 --port 8000
#   worker     celery -A tasks worker --loglevel INFO   (with REMAP_SIGTERM=SIGQUIT)
#   Flower     celery -A tasks flower --address=0.0.0.0 --port=5555
#   bootstrap  python -m core.bootstrap
# The default command is the API. docker-compose.optional.yml and the ECS task definitions
# (deploy/cloudformation/batchlab.yaml) set the others.

# 1. The web app, built with Node (the API serves frontend/dist at /).
FROM node:22-bookworm-slim AS web
WORKDIR /src/frontend
# The lock file first: npm ci is cached until the dependencies change.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npx ng build --configuration production

# 2. The Python package and its runtime dependencies (no dev extra) in a venv,
#    built apart so that pip, wheels and sources stay out of the final image.
FROM python:3.11-slim AS python
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore keeps tests, benchmarks, docs and local state (.venv, node_modules) out.
COPY . .
RUN python -m venv /opt/batchlab \
    && /opt/batchlab/bin/pip install --no-compile . \
    && /opt/batchlab/bin/python -m compileall -q /opt/batchlab/lib

# 3. The runtime: the venv, the built web app, a non-root user.
FROM python:3.11-slim
ENV PATH=/opt/batchlab/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BATCHLAB_FRONTEND_DIST=/app/frontend/dist/batchlab/browser \
    TMPDIR=/app/tmp
# The only place the processes write (Prometheus multiprocess files, the event-queue lock
# files): a volume, so the root filesystem can be read-only (the ECS task definitions mount
# a task volume here; ECS gives it this directory's owner because of VOLUME).
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home batchlab \
    && mkdir -p /app/tmp \
    && chown 10001:10001 /app/tmp
VOLUME ["/app/tmp"]
COPY --from=python /opt/batchlab /opt/batchlab
COPY --from=web /src/frontend/dist/batchlab/browser /app/frontend/dist/batchlab/browser
WORKDIR /app
USER 10001:10001
EXPOSE 8000 5555
# No image-wide health check: health depends on the role (the API's /healthz, nothing for a
# worker), so the ECS task definitions and the ALB target group declare it per service.
HEALTHCHECK NONE
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
