#!/usr/bin/env bash
# Install Concierge with its dev extras, then lint, type-check and run every test
# (unit tests on fakes; integration tests on the bundled models, Chroma on disk, SQLite and PostgreSQL).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
.venv/bin/ruff check assistant knowledge ui tests bench examples
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -ra "$@"
