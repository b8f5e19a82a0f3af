"""Saving honestly (issue 9): killed saves leave nothing behind for long, symlinks and read-only files are respected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from composer_app.core.fileio import STALE_TEMPORARY_S, remove_stale_temporaries, write_bytes_atomically
from composer_app.core.midifile import MidiFileError, load_midi, save_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.projectfile import ProjectFileError, load_project, save_project
from composer_app.core.track import Track

REPO = Path(__file__).resolve().parents[2]


def project(title: str) -> Project:
    return Project(tracks=(Track("Melody", notes=[Note(0, 60, 480)]),), title=title)


def hidden_temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def start_a_save_that_hangs(path: Path) -> subprocess.Popen:
    """A real process saving ``path`` that stops inside fsync, after its temporary file is written."""
    code = textwrap.dedent(
        f"""
        import os, sys, time
        from composer_app.core.projectfile import save_project
        from composer_app.core.project import Project
        def hang(fd):
            print("writing", flush=True)
            time.sleep(60)
        os.fsync = hang
        save_project(Project(settings={{"x": "x" * 100000}}), {str(path)!r})
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert process.stdout.readline().strip() == "writing"
    return process


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    path = tmp_path / "song.composer"
    save_project(project("first"), path)
    for _ in range(3):
        process = start_a_save_that_hangs(path)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        # What kill -9 leaves; each new save removed the one before (they never pile up).
        assert len(hidden_temporaries(tmp_path)) == 1
    assert load_project(path).title == "first"  # the file itself is whole

    save_project(project("second"), path)
    assert hidden_temporaries(tmp_path) == []
    assert load_project(path).title == "second"


def test_a_save_in_progress_in_another_process_is_left_alone(tmp_path):
    path = tmp_path / "song.composer"
    process = start_a_save_that_hangs(path)
    try:
        save_project(project("mine"), path)
        assert len(hidden_temporaries(tmp_path)) == 1  # the other process's file, still being written
    finally:
        process.kill()
        process.wait(10)


def test_old_temporaries_without_a_process_id_are_removed_too(tmp_path):
    path = tmp_path / "song.mid"
    old = tmp_path / ".song.mid.ab12cd34.tmp"  # how saves named them before process ids
    young = tmp_path / ".song.mid.ef56gh78.tmp"
    other = tmp_path / ".other.mid.ab12cd34.tmp"
    for temp in (old, young, other):
        temp.write_bytes(b"partial")
    past = time.time() - STALE_TEMPORARY_S - 10
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    assert remove_stale_temporaries(path) == [old]
    assert young.exists() and other.exists()


def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "projects" / "song.composer"
    real.parent.mkdir()
    save_project(project("old"), real)
    link = tmp_path / "link.composer"
    link.symlink_to(Path("projects") / "song.composer")  # relative, as people make them

    save_project(project("new"), link)
    assert link.is_symlink()
    assert load_project(real).title == "new"
    assert hidden_temporaries(real.parent) == [] and hidden_temporaries(tmp_path) == []


def test_saving_a_midi_file_through_a_symlink(tmp_path):
    real = tmp_path / "song.mid"
    save_midi(project("old"), real)
    link = tmp_path / "link.mid"
    link.symlink_to(real)
    save_midi(project("new"), link)
    assert link.is_symlink() and load_midi(real).title == "new"


def test_a_read_only_file_is_not_overwritten(tmp_path):
    path = tmp_path / "song.composer"
    save_project(project("kept"), path)
    path.chmod(0o444)
    with pytest.raises(ProjectFileError, match=r"song.composer: cannot write \(read-only file\)"):
        save_project(project("lost"), path)
    assert load_project(path).title == "kept"
    assert hidden_temporaries(tmp_path) == []
    with pytest.raises(MidiFileError, match=r"cannot write \(read-only file\)"):
        save_midi(project("lost"), path.with_suffix(".mid").symlink_to(path) or path.with_suffix(".mid"))


def test_a_new_file_and_a_replaced_file_keep_their_permissions(tmp_path):
    path = tmp_path / "song.mid"
    write_bytes_atomically(path, b"one")
    path.chmod(0o640)
    write_bytes_atomically(path, b"two")
    assert path.read_bytes() == b"two" and path.stat().st_mode & 0o777 == 0o640
