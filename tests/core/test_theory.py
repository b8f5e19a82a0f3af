"""Theory: keys, key estimation, snap grids, quantize, transpose."""

from composer_app.core.note import Note
from composer_app.core.theory import Key, estimate_key


def test_estimate_key_of_nothing_is_none():
    assert estimate_key([]) is None
    assert estimate_key([Note(0, 60, 480)]) is not None
    assert Key.parse("A minor") == Key(9, "minor")
