"""genre_models.fileio: atomic file and folder writes, tolerant JSON reads, and file locks."""

from __future__ import annotations

import json
import stat

import pytest

from genre_models import fileio


def test_atomic_file_write_publishes_a_readable_file_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "cache" / "scores.bin"
    fileio.write_bytes_atomically(target, lambda handle: handle.write(b"first"))
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # mkstemp's 0600 would hide it from other users

    def fail_halfway(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fileio.write_bytes_atomically(target, fail_halfway)
    assert target.read_bytes() == b"first"  # the old file is untouched
    assert sorted(path.name for path in target.parent.iterdir()) == ["scores.bin"]  # no temp file left


def test_json_round_trip_and_unreadable_json_gives_the_default(tmp_path):
    path = tmp_path / "status.json"
    fileio.write_json_atomically(path, {"state": "running", "epoch": 3})
    assert fileio.read_json(path) == {"state": "running", "epoch": 3}
    path.write_text('{"state": "runn')  # a truncated file
    assert fileio.read_json(path, default="fallback") == "fallback"
    assert fileio.read_json(tmp_path / "absent.json") is None


def test_json_lines_skip_a_partial_last_line(tmp_path):
    path = tmp_path / "history.jsonl"
    fileio.append_json_line(path, {"epoch": 1})
    fileio.append_json_line(path, {"epoch": 2})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"epoch": ')  # the writer is in the middle of a line
    assert fileio.read_json_lines(path) == [{"epoch": 1}, {"epoch": 2}]
    assert fileio.read_json_lines(tmp_path / "absent.jsonl") == []


def test_folder_write_replaces_the_old_folder_in_one_step(tmp_path):
    target = tmp_path / "artifact"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with fileio.write_folder_atomically(target) as staging:
        (staging / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing is visible before the block ends
    assert sorted(path.name for path in target.iterdir()) == ["new.txt"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o755  # mkdtemp's 0700 would hide it from other users
    assert sorted(path.name for path in tmp_path.iterdir()) == ["artifact"]


def test_folder_write_that_fails_leaves_the_old_folder_and_no_staging(tmp_path):
    target = tmp_path / "artifact"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="crashed"), fileio.write_folder_atomically(target) as staging:
        (staging / "half.txt").write_text("half")
        raise RuntimeError("crashed while writing")
    assert sorted(path.name for path in target.iterdir()) == ["old.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["artifact"]


def test_lock_is_seen_by_another_open_file_and_released_on_close(tmp_path):
    path = tmp_path / "worker.lock"
    path.write_text(json.dumps({"pid": 1}))
    assert not fileio.is_locked(path)
    holder = open(path, "r+", encoding="utf-8")
    assert fileio.lock_file(holder, blocking=False)
    assert fileio.is_locked(path)
    with open(path, "r+", encoding="utf-8") as other:
        assert not fileio.lock_file(other, blocking=False)  # a second holder is refused, not blocked
    holder.close()
    assert not fileio.is_locked(path)
    assert not fileio.is_locked(tmp_path / "absent.lock")


@pytest.mark.parametrize("content, kept, noted", [
    ('{"epochs": [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.4}]}', [1, 2], False),
    ("[1, 2]", [], True),
    ('{"epochs": 5}', [], True),
    ('{"epochs": [{"epoch": 1, "loss": 0.5}, {"loss": 0.4}, 7]}', [1], True),
    ("not json", [], True),
])
def test_history_of_the_wrong_shape_is_ignored_with_a_note(tmp_path, content, kept, noted):
    path = tmp_path / "history.json"
    path.write_text(content)
    records, note = fileio.read_epoch_records(path)
    assert [record["epoch"] for record in records] == kept
    assert (note is not None) == noted
    if noted:
        assert str(path) in note and "ignored" in note


def test_missing_history_gives_no_epochs_and_no_note(tmp_path):
    assert fileio.read_epoch_records(tmp_path / "history.json") == ([], None)
