"""Note: validation with exact messages, immutability, ordering, the with_* methods."""

import dataclasses

import pytest

from composer_app.core.note import Note


def test_defaults_and_end_tick():
    note = Note(start_tick=480, pitch=60, duration_ticks=240)
    assert (note.velocity, note.channel) == (100, 0)
    assert note.end_tick == 720


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"pitch": 128}, ValueError, "pitch must be in range 0..127"),
        ({"pitch": -1}, ValueError, "pitch must be in range 0..127"),
        ({"pitch": 60.0}, TypeError, "pitch must be an int"),
        ({"pitch": True}, TypeError, "pitch must be an int"),
        ({"start_tick": -1}, ValueError, "start_tick must be >= 0"),
        ({"start_tick": "0"}, TypeError, "start_tick must be an int"),
        ({"duration_ticks": 0}, ValueError, "duration_ticks must be >= 1"),
        ({"velocity": 0}, ValueError, "velocity must be in range 1..127"),
        ({"velocity": 128}, ValueError, "velocity must be in range 1..127"),
        ({"channel": 16}, ValueError, "channel must be in range 0..15"),
        ({"channel": None}, TypeError, "channel must be an int"),
    ],
)
def test_invalid_values_are_refused_with_exact_messages(kwargs, error, message):
    values = {"start_tick": 0, "pitch": 60, "duration_ticks": 1, **kwargs}
    with pytest.raises(error) as info:
        Note(**values)
    assert str(info.value) == message


def test_limits_are_inclusive():
    Note(0, 0, 1, 1, 0)
    Note(10**9, 127, 10**9, 127, 15)


def test_notes_are_immutable_and_hashable():
    note = Note(0, 60, 480)
    with pytest.raises(dataclasses.FrozenInstanceError):
        note.pitch = 61
    assert len({note, Note(0, 60, 480)}) == 1


def test_with_methods_return_validated_copies():
    note = Note(480, 60, 240, 90, 2)
    assert note.with_pitch(72) == Note(480, 72, 240, 90, 2)
    assert note.with_start(0) == Note(0, 60, 240, 90, 2)
    assert note.with_duration(960) == Note(480, 60, 960, 90, 2)
    assert note.with_velocity(10) == Note(480, 60, 240, 10, 2)
    assert note.with_channel(9) == Note(480, 60, 240, 90, 9)
    assert note.shifted(delta_ticks=-480, delta_pitch=12) == Note(0, 72, 240, 90, 2)
    assert note.pitch == 60  # the original is untouched
    with pytest.raises(ValueError, match="^pitch must be in range 0..127$"):
        note.with_pitch(200)
    with pytest.raises(ValueError, match="^start_tick must be >= 0$"):
        note.shifted(delta_ticks=-481)


def test_notes_sort_by_start_then_pitch():
    notes = [Note(480, 60, 10), Note(0, 72, 10), Note(0, 48, 10), Note(480, 59, 10)]
    assert [(n.start_tick, n.pitch) for n in sorted(notes)] == [(0, 48), (0, 72), (480, 59), (480, 60)]
