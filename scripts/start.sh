#!/usr/bin/env bash
# Install and start Concierge on its embedded defaults: SQLite and Chroma under ./data, the bundled
# models, and the demo shop loaded on first start. Open http://127.0.0.1:7860/ when it says so.
# This is the local demo, so the demo sign-in is on (only for the demo shop's customers, only on loopback:
# the server refuses it on any other address); CONCIERGE_SECURITY__DEMO_SIGN_IN=false turns it off.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
export CONCIERGE_SECURITY__DEMO_SIGN_IN="${CONCIERGE_SECURITY__DEMO_SIGN_IN:-true}"
exec .venv/bin/concierge serve "$@"
