#!/usr/bin/env bash
# Install Concierge with its dev extras, then lint, type-check and run every test
# (unit tests on fakes; integration tests on the bundled models, Chroma on disk, SQLite and PostgreSQL;
# browser tests on Debian's Chromium). It installs or starts what the tests need when it is missing:
# Chromium and its driver (apt), and PostgreSQL / Redis when they are installed but stopped.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[test.sh] %s\n' "$*" >&2; }

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  say "starting PostgreSQL (the store tests also run on it)"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || say "could not start PostgreSQL"
fi
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  say "starting Redis (shared rate limits are tested on it)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || say "could not start Redis"
fi
# Debian's Chromium and ChromeDriver for the real-browser tests (Playwright drives them; its own browser
# download does not work here).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "installing Debian's chromium and chromium-driver for the browser tests (once)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
      || say "could not install chromium; the browser tests will fail"
  else
    say "no chromium and no apt-get as root: install Debian's chromium and chromium-driver for the browser tests"
  fi
fi

# a Chinese font, so the screenshots of the Chinese pages show the text a shopper sees (not empty boxes); the
# tests read the text either way
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "installing a Chinese font (Debian's fonts-wqy-microhei, 1.6 MB) for the Chinese pages' screenshots (once)"
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; }) \
      || say "could not install a Chinese font; Chinese screenshots will show boxes"
  fi
fi

# npm for the accessibility tests: they fetch axe-core from the npm registry once (tests/browser/axe_check.py)
if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "installing Debian's npm for the accessibility tests (once)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm || say "could not install npm; the accessibility tests will fail"
  else
    say "no npm and no apt-get as root: install npm for the accessibility tests"
  fi
fi

say "installing into .venv (the first run compiles llama.cpp, a few minutes)"
bash scripts/install.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
say "lint (ruff) and types (mypy)"
.venv/bin/ruff check assistant knowledge ui tests bench examples
.venv/bin/mypy
say "pytest"
exec .venv/bin/python -m pytest -q -ra "$@"
