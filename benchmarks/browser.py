"""Shared by the benchmarks that time the app in a real browser: start `streamlit run` on a free
loopback port, launch Debian's Chromium headless, and open a page once the server listens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Chromium flags for this sandboxed, offline machine (see the README's browser-test notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def start_app(data_dir: str, *extra_args: str, checkout: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """Start the app on a free 127.0.0.1 port (extra streamlit flags appended) from ``checkout`` (this one by
    default; another copy of the project to time an earlier version); return the process and port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *extra_args],
        cwd=checkout, env={**os.environ, "GENRE_DATA_DIR": data_dir}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    return server, port


def launch_chromium(playwright, chromium: str):
    """Launch headless Chromium from its Debian path with the flags this machine needs."""
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


def open_when_listening(page, url: str) -> None:
    """Open ``url``, retrying until the server accepts connections."""
    while True:
        try:
            page.goto(url)
            return
        except Exception:  # the server is not listening yet
            time.sleep(0.2)
