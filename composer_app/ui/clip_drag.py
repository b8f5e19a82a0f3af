"""Clips out of the window: drag a candidate (or the piano-roll selection) into a DAW as a .mid file.

DAWs accept a drop of files (``text/uri-list``), not of notes, and many read the file only after
the drop has finished, some again later. So every drag writes the clip fresh into its own folder
under the app's cache (``<cache>/clips/<time>-<random>/<project>-<mood>-bars<N>-<seed>.mid``):
the file keeps a meaningful name (the DAW names the new clip after it) and no later drag can
overwrite a file a DAW may still be reading. Folders older than :data:`KEEP_SECONDS` (a day) are
removed the next time a clip is written (and when the app starts).

Copy puts the same kind of file's URL on the clipboard (paste into a file manager or a DAW);
Export writes the clip where the user chooses.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QMimeData, QStandardPaths, Qt, QUrl
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from composer_app.core.note import Note
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.mood.mood import Mood, nearest_preset

KEEP_SECONDS = 24 * 3600
CACHE_ENV = "COMPOSER_APP_CACHE_DIR"  # overrides the cache folder (tests)


@dataclass(frozen=True)
class ClipSpec:
    """A clip to write: notes from tick 0, with the tempo/meter in force where they came from."""

    notes: tuple[Note, ...]
    ticks_per_quarter: int = 480
    tempo_map: TempoMap | None = None
    time_signatures: TimeSignatureMap | None = None
    program: int = 0
    name: str = "clip"  # the track name inside the file
    project_name: str = "untitled"
    mood: Mood | str | None = None
    bars: int | None = None
    seed: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def file_name(self) -> str:
        return clip_file_name(self.project_name, self.mood, self.bars, self.seed)


def _slug(text: str, fallback: str) -> str:
    text = re.sub(r"\.(mid|midi|composer|json)$", "", str(text or ""), flags=re.IGNORECASE)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:40] or fallback


def mood_name(mood: Mood | str | None) -> str:
    """The word a file name uses for a mood: the nearest preset's name."""
    if mood is None:
        return "neutral"
    if isinstance(mood, str):
        return _slug(mood, "mood")
    return nearest_preset(mood).name


def clip_file_name(project_name: str, mood: Mood | str | None, bars: int | None, seed: int | None) -> str:
    """``<project>-<mood>-bars<N>-<seed>.mid`` (lower case, safe on every file system)."""
    parts = [_slug(project_name, "untitled"), _slug(mood_name(mood), "mood")]
    if bars is not None:
        parts.append(f"bars{int(bars)}")
    if seed is not None:
        parts.append(str(int(seed)))
    return "-".join(parts) + ".mid"


def cache_dir() -> Path:
    """The folder drag files are written to (created)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        base = Path(override)
    else:
        location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
        base = Path(location) if location else Path.home() / ".cache" / "composer-app"
    path = base / "clips"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cleanup_cache(max_age_seconds: float = KEEP_SECONDS, *, now: float | None = None) -> int:
    """Remove drag folders older than ``max_age_seconds``; returns how many went."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(cache_dir().iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            if now - entry.stat().st_mtime > max_age_seconds:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def shifted_maps(tempo_map: TempoMap | None, time_signatures: TimeSignatureMap | None, offset: int, tpq: int):
    """The tempo and meter maps as seen from ``offset`` (which becomes tick 0)."""
    tempo = tempo_map or TempoMap(ticks_per_quarter=tpq)
    meter = time_signatures or TimeSignatureMap(ticks_per_quarter=tpq)
    tempos = [TempoChange(0, tempo.change_at(offset).microseconds_per_quarter)] + [
        TempoChange(c.tick - offset, c.microseconds_per_quarter) for c in tempo.changes if c.tick > offset
    ]
    ts = meter.change_at(offset)
    meters = [TimeSignatureChange(0, ts.numerator, ts.denominator)] + [
        TimeSignatureChange(c.tick - offset, c.numerator, c.denominator) for c in meter.changes if c.tick > offset
    ]
    return TempoMap(tempos, tpq), TimeSignatureMap(meters, tpq)


def spec_from_selection(project, track_index: int, notes: Iterable[Note], *, mood=None, seed=None) -> ClipSpec:
    """A clip of selected notes: moved so that the first note's bar starts at tick 0."""
    notes = sorted(notes)
    if not notes:
        raise ValueError("nothing selected")
    meter = project.time_signatures
    first_bar = meter.tick_to_position(notes[0].start_tick).bar
    offset = meter.bar_to_tick(first_bar)
    end_bar = meter.tick_to_bars(max(n.end_tick for n in notes))
    bars = max(1, int(-(-(end_bar - first_bar) // 1)))
    tempo_map, time_signatures = shifted_maps(project.tempo_map, meter, offset, project.ticks_per_quarter)
    track = project.tracks[track_index]
    return ClipSpec(
        notes=tuple(n.with_start(n.start_tick - offset) for n in notes),
        ticks_per_quarter=project.ticks_per_quarter,
        tempo_map=tempo_map,
        time_signatures=time_signatures,
        program=track.program,
        name=track.name,
        project_name=project.title or "untitled",
        mood=mood,
        bars=bars,
        seed=seed,
    )


def write_clip(spec: ClipSpec, path: Path) -> Path:
    """Write ``spec`` as a Standard MIDI File at ``path`` (through core's ``save_clip``)."""
    from composer_app.core.midifile import save_clip  # noqa: PLC0415

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_clip(
        list(spec.notes),
        path,
        ticks_per_quarter=spec.ticks_per_quarter,
        tempo_map=spec.tempo_map,
        time_signatures=spec.time_signatures,
        program=spec.program,
        name=spec.name,
    )
    return path


def write_drag_file(spec: ClipSpec) -> Path:
    """Write the clip fresh into its own folder in the cache (old folders are cleaned up)."""
    cleanup_cache()
    folder = cache_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True, exist_ok=False)
    return write_clip(spec, folder / spec.file_name)


def clip_mime_data(spec: ClipSpec) -> QMimeData:
    """Mime data for a drag or the clipboard: the freshly written file's URL (``text/uri-list``)."""
    path = write_drag_file(spec)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    mime.setText(str(path))
    return mime


def start_drag(source: QWidget, spec: ClipSpec) -> Qt.DropAction:
    """Drag the clip out of ``source`` as a .mid file; returns the drop action."""
    from PySide6.QtGui import QDrag  # noqa: PLC0415

    drag = QDrag(source)
    drag.setMimeData(clip_mime_data(spec))
    return drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


def copy_to_clipboard(spec: ClipSpec) -> Path:
    """Put the clip's file URL on the clipboard; returns the file written."""
    mime = clip_mime_data(spec)
    QApplication.clipboard().setMimeData(mime)
    return Path(mime.urls()[0].toLocalFile())


def export_clip(parent: QWidget | None, spec: ClipSpec, directory: str | Path | None = None) -> Path | None:
    """Ask where to write the clip and write it there; ``None`` when the user cancels."""
    start = str(Path(directory or Path.home()) / spec.file_name)
    chosen, _ = QFileDialog.getSaveFileName(parent, "Export clip as MIDI", start, "MIDI files (*.mid *.midi)")
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in (".mid", ".midi"):
        path = path.with_suffix(".mid")
    return write_clip(spec, path)
