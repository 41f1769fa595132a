# mediacheck: one image for the API server (default command) and the RQ workers (`mediacheck worker`).
#   podman build --format docker -t mediacheck .     # docker build -t mediacheck .
#   podman run --rm -p 8000:8000 -v mediacheck-media:/var/lib/mediacheck mediacheck
# Python and ffmpeg come from Debian. Layers go from rarely to often changed: system packages,
# Python dependencies (only pyproject.toml is copied for them), then the code and the profiles.
# See docs/operations-container.md.
FROM debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ffmpeg ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

ENV VIRTUAL_ENV=/opt/mediacheck/venv \
    PATH=/opt/mediacheck/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv "$VIRTUAL_ENV"

# Dependencies (build requirements, runtime dependencies and the extras named in MEDIACHECK_EXTRAS)
# read from pyproject.toml alone, so a code change reuses this layer. Behind a TLS-inspecting proxy,
# hand its CA bundle to the build as a secret: `--secret id=build-ca,src=$CA` (podman and docker);
# pip then trusts it, nothing of it stays in the image, and the image's trust store stays Debian's.
ARG MEDIACHECK_EXTRAS=postgres
WORKDIR /opt/mediacheck/src
COPY pyproject.toml ./
RUN --mount=type=secret,id=build-ca,target=/run/secrets/build-ca \
    python -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
extras = p["project"].get("optional-dependencies", {}); \
reqs = p["build-system"]["requires"] + p["project"]["dependencies"] \
     + [r for e in sys.argv[1].split(",") if e for r in extras.get(e, [])]; \
print("\n".join(reqs))' "$MEDIACHECK_EXTRAS" > /tmp/requirements.txt \
 && if [ -s /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
 && pip install -q -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code: a regular (non-editable) install into the venv; the source copy is only build input.
COPY service ./service
COPY workers ./workers
RUN pip install -q --no-deps --no-build-isolation . \
 && rm -rf build ./*.egg-info \
 && mediacheck --help >/dev/null

# Profiles are data: outside the package, found through MEDIACHECK_PROFILES_DIR.
COPY profiles /opt/mediacheck/profiles
COPY scripts/container-health.py /usr/local/bin/mediacheck-health

RUN useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/mediacheck --shell /usr/sbin/nologin mediacheck \
 && install -d -o mediacheck -g mediacheck -m 0750 /var/lib/mediacheck \
 && chmod 0755 /usr/local/bin/mediacheck-health
ENV MEDIACHECK_PROFILES_DIR=/opt/mediacheck/profiles \
    MEDIACHECK_DATA_DIR=/var/lib/mediacheck \
    LANG=C.UTF-8
# Uploads, derived files (and the SQLite database when no MEDIACHECK_DATABASE_URL is given).
VOLUME ["/var/lib/mediacheck"]
WORKDIR /var/lib/mediacheck
USER mediacheck

EXPOSE 8000
# Needs `podman build --format docker` (the OCI image format has no HEALTHCHECK); docker keeps it anyway.
# Workers override it with `mediacheck-health worker` (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["mediacheck-health"]
# tini as PID 1 forwards signals and reaps orphaned ffmpeg processes.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["mediacheck", "serve", "--host", "0.0.0.0", "--port", "8000"]
