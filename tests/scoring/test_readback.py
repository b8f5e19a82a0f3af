import pytest

from composer_app.core.note import Note
from composer_app.core.timing import TempoMap
from composer_app.scoring.readback import read_back, spearman

TPQ = 480
C_MAJOR = (60, 64, 67, 72, 67, 65, 64, 62, 60, 67, 64, 60)
C_MINOR = (48, 51, 55, 60, 55, 53, 51, 50, 48, 55, 51, 48)


def _line(pitches, step_ticks, velocity, articulation):
    return [
        Note(i * step_ticks, p, max(1, int(step_ticks * articulation)), velocity) for i, p in enumerate(pitches * 4)
    ]


def test_major_fast_high_loud_detached_reads_happier_and_more_excited_than_minor_slow_low_soft_legato():
    bright = _line(C_MAJOR, TPQ // 2, 105, 0.5)
    dark = _line(C_MINOR, TPQ * 2, 45, 1.0)
    end_bright, end_dark = bright[-1].end_tick, dark[-1].end_tick
    happy = read_back(bright, bright, TempoMap.constant(140, TPQ), 0, end_bright)
    sad = read_back(dark, dark, TempoMap.constant(66, TPQ), 0, end_dark)
    assert happy.valence > 0.3 > -0.3 > sad.valence
    assert happy.arousal > 0.3 > -0.3 > sad.arousal
    assert happy.measures["major_strength"] > 0 > sad.measures["major_strength"]


def test_each_cue_moves_its_axis_the_documented_way():
    line = _line(C_MAJOR, TPQ, 80, 0.8)
    end = line[-1].end_tick
    slow = read_back(line, line, TempoMap.constant(70, TPQ), 0, end)
    fast = read_back(line, line, TempoMap.constant(150, TPQ), 0, end)
    assert fast.arousal > slow.arousal
    loud_line = [n.with_velocity(120) for n in line]
    loud = read_back(loud_line, loud_line, TempoMap.constant(70, TPQ), 0, end)
    assert loud.arousal > slow.arousal


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 1, 1]) is None
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)
