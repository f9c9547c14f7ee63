# Khabuan's image: the web (gunicorn, as in the Procfile), the worker and the release step all run
# from it (compose.yaml; docs/OPERATIONS.md). Slim Python, a non-root user, the Thai font from the
# fontpkg-sarabun package (checked below), nothing downloaded at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libfribidi0: Pillow's bundled raqm needs it to shape Thai when `khabuan richmenu deploy` draws.
# curl: the health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfribidi0 curl \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin khabuan
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && python -c "import fontpkg_sarabun, pathlib; f = pathlib.Path(fontpkg_sarabun.ROOT) / 'files' / 'Sarabun-Regular.ttf'; assert f.is_file(), f"
COPY gunicorn.conf.py Procfile ./

# The instance folder holds photos when MEDIA_STORAGE_URL is not set (mount a volume there).
# gunicorn.conf.py gives the web processes their PROMETHEUS_MULTIPROC_DIR (a fresh folder in /tmp).
ENV KHABUAN_INSTANCE_PATH=/data \
    PORT=8000
RUN mkdir -p /data && chown khabuan:khabuan /data
VOLUME ["/data"]
USER khabuan

EXPOSE 8000
# gunicorn and `khabuan worker` both stop gracefully on SIGTERM (docs/OPERATIONS.md).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
CMD ["gunicorn", "-c", "gunicorn.conf.py", "bot.app:create_app()"]
