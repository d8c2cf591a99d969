#!/usr/bin/env bash
# Install and start Concierge on its embedded defaults: SQLite and Chroma under ./data, the bundled
# models, and the demo shop loaded on first start. Open http://127.0.0.1:7860/ when it says so.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
exec .venv/bin/concierge serve "$@"
