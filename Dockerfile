# aisec's gateway (default) and dashboard in one image: non-root, read-only weights, healthcheck.
#   docker build -t aisec .
#   docker run --read-only -p 8080:8080 -v $PWD/guard.yaml:/etc/aisec/guard.yaml:ro aisec
#   docker run --read-only -p 8700:8700 -v $PWD/.aisec:/data/.aisec:ro aisec \
#       dashboard --host 0.0.0.0 --db /data/.aisec/evidence.db   # with AISEC_DASHBOARD_TOKEN set
# Model weights, if any, are mounted read-only under /models (-v ./model:/models:ro).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /opt/aisec \
    && /opt/aisec/bin/pip install --no-cache-dir ".[guard,dashboard,postgres]"

FROM python:3.11-slim
LABEL org.opencontainers.image.title="aisec" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.description="aisec gateway and dashboard"
RUN groupadd --system --gid 10001 aisec \
    && useradd --system --uid 10001 --gid aisec --home-dir /data --shell /usr/sbin/nologin aisec \
    && mkdir -p /data /models /etc/aisec \
    && chown aisec:aisec /data
COPY --from=build /opt/aisec /opt/aisec
ENV PATH="/opt/aisec/bin:$PATH" \
    AISEC_HOME=/data/.aisec \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data", "/models"]
EXPOSE 8080 8700
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2); sys.exit(0)"]
ENTRYPOINT ["aisec"]
CMD ["guard", "serve", "--config", "/etc/aisec/guard.yaml", "--host", "0.0.0.0", "--port", "8080"]
