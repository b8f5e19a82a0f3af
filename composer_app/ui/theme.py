"""Colours of the editor, derived from the system palette so dark and light themes both work."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

VELOCITY_BUCKETS = 16  # notes are coloured in this many velocity steps


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


@dataclass
class RollColors:
    """Every colour the piano roll paints with."""

    background: QColor
    black_key_row: QColor
    scale_row: QColor
    octave_line: QColor
    row_line: QColor
    bar_line: QColor
    beat_line: QColor
    snap_line: QColor
    loop_fill: QColor
    ghost_fill: QColor
    note_border: QColor
    selected_fill: QColor
    selected_border: QColor
    playhead: QColor
    rubber_band: QColor
    text: QColor
    velocity_fills: tuple[QColor, ...]  # VELOCITY_BUCKETS colours, soft -> loud

    def velocity_color(self, velocity: int) -> QColor:
        return self.velocity_fills[min(VELOCITY_BUCKETS - 1, velocity * VELOCITY_BUCKETS // 128)]


def roll_colors(palette: QPalette | None = None) -> RollColors:
    palette = palette or QApplication.palette()
    dark = is_dark(palette)
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    if dark:
        background = _mix(base, QColor(40, 42, 48), 0.7)
        black_row = background.darker(125)
        scale_row = _mix(background, QColor(70, 90, 120), 0.35)
        soft, loud = QColor(70, 110, 190), QColor(250, 120, 60)
        ghost = QColor(255, 255, 255, 38)
        border = QColor(18, 18, 20)
    else:
        background = _mix(base, QColor(248, 248, 250), 0.5)
        black_row = background.darker(110)
        scale_row = _mix(background, QColor(200, 220, 255), 0.45)
        soft, loud = QColor(120, 160, 230), QColor(220, 60, 30)
        ghost = QColor(0, 0, 0, 36)
        border = QColor(70, 70, 74)
    middle = QColor(120, 190, 120) if dark else QColor(90, 170, 90)
    fills = []
    for i in range(VELOCITY_BUCKETS):
        t = i / (VELOCITY_BUCKETS - 1)
        fills.append(_mix(soft, middle, t * 2) if t < 0.5 else _mix(middle, loud, (t - 0.5) * 2))
    line = QColor(text)
    return RollColors(
        background=background,
        black_key_row=black_row,
        scale_row=scale_row,
        octave_line=QColor(line.red(), line.green(), line.blue(), 70),
        row_line=QColor(line.red(), line.green(), line.blue(), 18),
        bar_line=QColor(line.red(), line.green(), line.blue(), 110),
        beat_line=QColor(line.red(), line.green(), line.blue(), 50),
        snap_line=QColor(line.red(), line.green(), line.blue(), 22),
        loop_fill=QColor(highlight.red(), highlight.green(), highlight.blue(), 40),
        ghost_fill=ghost,
        note_border=border,
        selected_fill=QColor(255, 214, 80) if dark else QColor(255, 190, 40),
        selected_border=QColor(255, 255, 255) if dark else QColor(0, 0, 0),
        playhead=QColor(255, 80, 80),
        rubber_band=QColor(highlight.red(), highlight.green(), highlight.blue(), 60),
        text=text,
        velocity_fills=tuple(fills),
    )


# Track colours, in order of the track list (repeating after eight): distinct hues that read on
# light and dark backgrounds alike.
TRACK_HUES = (
    QColor(60, 130, 230),  # blue
    QColor(230, 120, 40),  # orange
    QColor(50, 165, 85),  # green
    QColor(200, 70, 160),  # magenta
    QColor(30, 165, 185),  # teal
    QColor(190, 150, 20),  # gold
    QColor(135, 95, 215),  # violet
    QColor(215, 65, 65),  # red
)


def track_color(index: int) -> QColor:
    """The colour of track ``index`` (its notes in the roll, its swatch in the track list)."""
    return QColor(TRACK_HUES[index % len(TRACK_HUES)])


def track_note_fills(index: int, background: QColor) -> tuple[QColor, ...]:
    """VELOCITY_BUCKETS fills for the notes of track ``index``: pale when soft, deep when loud."""
    base = track_color(index)
    pale = _mix(base, background, 0.6)
    deep = base.darker(125)
    return tuple(_mix(pale, deep, i / (VELOCITY_BUCKETS - 1)) for i in range(VELOCITY_BUCKETS))


def track_ghost_fill(index: int, background: QColor, muted: bool = False) -> QColor:
    """Notes of a track that is not being edited: its colour, faded (more when muted)."""
    return _mix(track_color(index), background, 0.82 if muted else 0.6)
