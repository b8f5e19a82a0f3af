"""Clips out of the window: the drag's mime data is a real .mid file that parses back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from composer_app.core.midifile import load_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.timing import TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from composer_app.mood.mood import PRESETS, Mood
from composer_app.ui import clip_drag


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(clip_drag.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


NOTES = (Note(0, 60, 240, 90), Note(240, 64, 240, 80), Note(480, 67, 960, 100), Note(1920, 72, 480, 70))


def spec(**kw):
    base = dict(
        notes=NOTES,
        ticks_per_quarter=480,
        tempo_map=TempoMap.constant(96),
        time_signatures=TimeSignatureMap(ticks_per_quarter=480),
        program=40,
        name="Violin suggestion",
        project_name="My Song.composer",
        mood=PRESETS["tense"].mood,
        bars=2,
        seed=1234,
    )
    base.update(kw)
    return clip_drag.ClipSpec(**base)


def test_file_name_is_meaningful():
    assert clip_drag.clip_file_name("My Song.composer", PRESETS["tense"].mood, 8, 42) == "my-song-tense-bars8-42.mid"
    assert clip_drag.clip_file_name("", None, 4, 7) == "untitled-neutral-bars4-7.mid"
    assert clip_drag.clip_file_name("a/b\\c:d", Mood(-0.8, -0.5), 1, 0) == "a-b-c-d-sad-bars1-0.mid"


def test_drag_mime_data_is_a_fresh_midi_file_that_parses_back(qapp, cache):
    mime = clip_drag.clip_mime_data(spec())
    assert mime.hasUrls() and "text/uri-list" in mime.formats()
    path = Path(mime.urls()[0].toLocalFile())
    assert path.exists() and path.name == "my-song-tense-bars2-1234.mid"
    assert cache in path.parents
    project = load_midi(path)
    notes = [n for t in project.tracks for n in t.notes]
    assert [(n.start_tick, n.pitch, n.duration_ticks, n.velocity) for n in sorted(notes)] == [
        (n.start_tick, n.pitch, n.duration_ticks, n.velocity) for n in NOTES
    ]
    assert project.tempo_map.bpm_at(0) == pytest.approx(96, abs=0.01)
    assert project.tracks[0].program == 40
    # every drag writes its own file: a DAW still reading the first one is not disturbed
    second = Path(clip_drag.clip_mime_data(spec()).urls()[0].toLocalFile())
    assert second != path and second.name == path.name and path.exists()


def test_old_drag_files_are_cleaned_up(qapp, cache):
    old = Path(clip_drag.clip_mime_data(spec()).urls()[0].toLocalFile()).parent
    long_ago = time.time() - clip_drag.KEEP_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    fresh = Path(clip_drag.clip_mime_data(spec(seed=5)).urls()[0].toLocalFile())
    assert not old.exists() and fresh.exists()


def test_copy_puts_the_file_url_on_the_clipboard(qapp):
    path = clip_drag.copy_to_clipboard(spec())
    mime = QApplication.clipboard().mimeData()
    assert [u.toLocalFile() for u in mime.urls()] == [str(path)]
    assert load_midi(path).note_count == len(NOTES)


def test_export_writes_where_the_user_chooses(qapp, tmp_path, monkeypatch):
    target = tmp_path / "out" / "chosen"
    monkeypatch.setattr(clip_drag.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "MIDI files"))
    path = clip_drag.export_clip(None, spec(), tmp_path)
    assert path == target.with_suffix(".mid") and load_midi(path).note_count == len(NOTES)
    monkeypatch.setattr(clip_drag.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert clip_drag.export_clip(None, spec()) is None


def test_selection_clip_starts_at_its_first_bar(qapp):
    meter = TimeSignatureMap([TimeSignatureChange(0, 3, 4)], 480)  # 3/4: 1440 ticks a bar
    notes = (Note(1440 * 2 + 480, 62, 480), Note(1440 * 3, 65, 240))
    project = Project(tracks=(Track("Lead", 73, 0, notes),), time_signatures=meter, title="waltz")
    s = clip_drag.spec_from_selection(project, 0, notes, mood=Mood(0.8, 0.5), seed=3)
    assert [n.start_tick for n in s.notes] == [480, 1440]
    assert s.bars == 2 and s.program == 73
    assert s.file_name == "waltz-happy-bars2-3.mid"
    back = load_midi(Path(clip_drag.clip_mime_data(s).urls()[0].toLocalFile()))
    assert back.time_signatures.change_at(0).numerator == 3
