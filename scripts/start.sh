#!/usr/bin/env bash
# Install and start Concierge on its embedded defaults: SQLite and Chroma under ./data, the bundled
# models, and the demo shop loaded on first start. Open http://127.0.0.1:7860/ when it says so.
# This is the local demo, so the demo sign-in is on (only for the demo shop's customers, only on loopback:
# the server refuses it on any other address); CONCIERGE_SECURITY__DEMO_SIGN_IN=false turns it off.
# Each phase prints one line "==> [phase] what it does"; the server's last lines say where the shopper chat and
# the staff views are and how to create the first staff account.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
printf '==> [install] Installing into .venv (the first install takes a few minutes; later ones take seconds)\n'
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
export CONCIERGE_SECURITY__DEMO_SIGN_IN="${CONCIERGE_SECURITY__DEMO_SIGN_IN:-true}"
# glibc keeps a malloc arena per busy thread; two are enough here: RSS after 20 turns 1,168 MiB instead of
# 1,265-1,333 MiB, start and turn times unchanged (bench/README.md, issue 20)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
data_dir=${CONCIERGE_APP__DATA_DIR:-${CONCIERGE_DATA_DIR:-data}}
if [ -n "$(ls -A "$data_dir" 2>/dev/null)" ]; then
  what="loading the bundled models and the shop in $data_dir"
else
  what="loading the bundled models; this first start also imports the demo shop into $data_dir (once)"
fi
printf '==> [start] Starting Concierge: %s\n' "$what"
# exec: the server gets Ctrl+C and a service manager's signals itself; a start that fails says what to try
exec .venv/bin/concierge serve "$@"
