"""genre_app/caches.py: the server-wide cache (once per key, least recently used out first) and the inputs'
digest."""

from __future__ import annotations

import threading

import numpy as np

from genre_app.caches import ServerCache, input_fingerprint


def test_the_server_cache_computes_once_per_key_and_drops_the_least_recently_used():
    calls = []
    cache = ServerCache(lambda *key, progress=None: calls.append(key) or sum(key), max_entries=2)
    assert cache(1, 2) == 3 and cache(1, 2) == 3
    assert calls == [(1, 2)]
    cache(5, 5)
    cache(1, 2)  # used again: (5, 5) is now the least recently used
    cache(7, 7)
    assert list(cache.entries) == [(1, 2), (7, 7)]
    cache.clear()
    cache(1, 2)
    assert calls == [(1, 2), (5, 5), (7, 7), (1, 2)]


def test_a_second_caller_of_the_same_key_waits_for_the_first_result():
    started, release, calls = threading.Event(), threading.Event(), []

    def compute(key, progress=None):
        calls.append(key)
        started.set()
        release.wait(10)
        return key * 2

    cache = ServerCache(compute, max_entries=4)
    results = []
    first = threading.Thread(target=lambda: results.append(cache(21)))
    first.start()
    started.wait(10)
    second = threading.Thread(target=lambda: results.append(cache(21)))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert results == [42, 42] and calls == [21]


def test_the_inputs_digest_changes_with_any_input_and_only_then():
    pixels = np.zeros((4, 3, 3), dtype=np.uint8)
    same = input_fingerprint(pixels, "a summary", None)
    assert same == input_fingerprint(pixels.copy(), "a summary", None)
    assert same != input_fingerprint(pixels, "a summary.", None)
    assert same != input_fingerprint(pixels.reshape(3, 4, 3), "a summary", None)
    assert same != input_fingerprint(pixels, None, "a summary")
    assert input_fingerprint(b"bytes") != input_fingerprint("bytes", None)
