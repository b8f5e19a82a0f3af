"""The installed Qt binding must not leak references: a GUI that paints would abort within seconds."""

import sys

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter


def test_void_qt_calls_keep_the_reference_count_of_none():
    """PySide6 6.12.0 on Python 3.11 decrements None's refcount on every void call ("none_dealloc" abort)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    colour = QColor(10, 20, 30)
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.fillRect(QRect(0, 0, 2, 2), colour)
        painter.setPen(colour)
    after = sys.getrefcount(None)
    painter.end()
    assert after >= before - 50, "this PySide6 build leaks references to None: install another version (not 6.12.0)"
