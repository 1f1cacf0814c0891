"""What keeps a page's work between reruns where Streamlit's caches do not fit: a server-wide cache for work
that draws its progress, and a digest of a page's inputs."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np


class ServerCache:
    """Results kept for the server's life, as st.cache_resource keeps them, for work that draws its progress
    while it runs: st.cache_resource replays whatever its function drew on every later hit, so a scoring's
    progress bars came back, finished and never cleared, on each later page view that read those scores.

    One computation per key at a time (a second caller of the same key waits for the first's result);
    past ``max_entries`` the least recently used entry goes. ``clear()`` forgets every entry.
    """

    def __init__(self, compute, max_entries: int):
        self.compute, self.max_entries = compute, max_entries
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.key_locks: dict = {}

    def __call__(self, *key, progress=None):
        """Return ``compute(*key, progress=progress)``, computed once per key."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self.lock:
                if key in self.entries:
                    return self.entries[key]
            value = self.compute(*key, progress=progress)
            with self.lock:
                self.entries[key] = value
                while len(self.entries) > self.max_entries:
                    self.entries.popitem(last=False)
                self.key_locks.pop(key, None)
        return value

    def clear(self) -> None:
        """Forget every entry (a new dataset was imported, say)."""
        with self.lock:
            self.entries.clear()


def input_fingerprint(*inputs) -> str:
    """Return a digest of a page's inputs (text, bytes, pixel arrays or None), to tell when they change."""
    digest = hashlib.sha1()
    for value in inputs:
        if value is None:
            digest.update(b"\x00none")
        elif isinstance(value, np.ndarray):
            digest.update(str(value.shape).encode() + np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (bytes, bytearray, memoryview)):
            digest.update(bytes(value))
        else:
            digest.update(str(value).encode("utf-8", errors="replace"))
        digest.update(b"\x00|")
    return digest.hexdigest()
