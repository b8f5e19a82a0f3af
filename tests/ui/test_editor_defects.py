"""Issue 10: each defect a composer hit in real use, as a test with real widgets and real input events.

Every test here failed on the main branch before the fix (the defect number is in its name).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from tests.ui.conftest import TPQ

BAR = 4 * TPQ


def test_defect12_every_tempo_is_shown_and_edited_at_the_playhead(qtbot, window):
    window.editor.tempo_lane.set_tempo(2 * BAR, 90.0, "Add tempo change")
    bar = window.transport_bar
    window.seek(2 * BAR + TPQ)
    assert bar.tempo.value() == 90.0
    bar.tempo.lineEdit().selectAll()
    qtbot.keyClicks(bar.tempo.lineEdit(), "72")
    qtbot.keyClick(bar.tempo.lineEdit(), Qt.Key.Key_Return)
    assert [(c.tick, round(c.bpm)) for c in window.document.project.tempo_map.changes] == [(0, 120), (2 * BAR, 72)]
    window.seek(0)
    assert bar.tempo.value() == 120.0
