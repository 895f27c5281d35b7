# Rocket: the HTTP app (`rocket serve`) on port 5000, as a non-root user.
#   docker build -t rocket .
#   docker run -p 5000:5000 --env-file .env -v rocket-data:/data rocket          # HTTP app
#   docker run --env-file .env -v rocket-data:/data rocket socket                 # Socket Mode instead
# (the image runs `rocket serve --host 0.0.0.0`: a container must listen beyond its loopback;
#  publish the port as -p 127.0.0.1:5000:5000 to keep it on the host machine only)
# With no DATABASE_URL the directory is kept in SQLite under /data (mount a volume there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 rocket \
    && useradd --system --uid 10001 --gid rocket --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin rocket

WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY ports ./ports
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN pip install . \
    && mkdir -p /data \
    && chown rocket:rocket /data

WORKDIR /data
USER rocket:rocket
ENV DATABASE_URL=sqlite:////data/rocket.db \
    PORT=5000
VOLUME ["/data"]
EXPOSE 5000

# No curl in the slim image: ask /healthz with the standard library (503 or no answer fails).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '5000'), timeout=4)"]

# `rocket serve` listens on 127.0.0.1 by default (this machine only); inside a container it must
# listen on every interface so `-p 5000:5000` reaches it: hence --host 0.0.0.0 here.
ENTRYPOINT ["rocket"]
CMD ["serve", "--host", "0.0.0.0"]
