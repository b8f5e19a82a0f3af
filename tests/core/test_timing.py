"""Tempo and time-signature maps, on values computed by hand."""

import pytest

from composer_app.core.timing import (
    BarPosition,
    TempoChange,
    TempoMap,
    TimeSignatureChange,
    TimeSignatureMap,
    beats_to_ticks,
    bpm_to_microseconds_per_quarter,
    microseconds_per_quarter_to_bpm,
    ticks_to_beats,
)

TPQ = 480


def test_bpm_and_microseconds():
    assert bpm_to_microseconds_per_quarter(120) == 500_000
    assert bpm_to_microseconds_per_quarter(100) == 600_000
    assert bpm_to_microseconds_per_quarter(144) == 416_667  # rounded
    assert microseconds_per_quarter_to_bpm(600_000) == 100
    with pytest.raises(ValueError, match="^bpm must be > 0$"):
        bpm_to_microseconds_per_quarter(0)


def test_ticks_and_beats():
    assert ticks_to_beats(720, TPQ) == 1.5
    assert beats_to_ticks(1.5, TPQ) == 720
    assert beats_to_ticks(1 / 3, TPQ) == 160


def test_change_validation_messages():
    with pytest.raises(ValueError) as info:
        TempoChange(0, 0)
    assert str(info.value) == "microseconds_per_quarter must be in range 1..16777215"
    with pytest.raises(ValueError) as info:
        TimeSignatureChange(0, 3, 6)
    assert str(info.value) == "denominator must be a power of two"
    with pytest.raises(ValueError) as info:
        TimeSignatureChange(0, 0, 4)
    assert str(info.value) == "numerator must be in range 1..255"
    with pytest.raises(TypeError) as info:
        TimeSignatureChange(0.5, 4, 4)
    assert str(info.value) == "tick must be an int"


def test_default_maps():
    tempo = TempoMap()
    assert tempo.changes == (TempoChange(0, 500_000),)
    assert tempo.tick_to_seconds(960) == 1.0
    meter = TimeSignatureMap()
    assert meter.changes == (TimeSignatureChange(0, 4, 4),)
    assert meter.bar_to_tick(2) == 3840


def test_tempo_changes_seconds_both_ways():
    # 120 BPM for 2 quarters (1 s), then 60 BPM for 2 quarters (2 s), then 240 BPM.
    tempo = TempoMap([TempoChange(960, 1_000_000), TempoChange(1920, 250_000)], TPQ)
    assert len(tempo.changes) == 3 and tempo.changes[0] == TempoChange(0, 500_000)
    expected = {0: 0.0, 480: 0.5, 960: 1.0, 1440: 2.0, 1920: 3.0, 2400: 3.25, 4320: 4.25}
    for tick, seconds in expected.items():
        assert tempo.tick_to_seconds(tick) == pytest.approx(seconds)
        assert tempo.seconds_to_tick(seconds) == pytest.approx(tick)
    assert tempo.tick_to_seconds(1200) == pytest.approx(1.5)  # halfway through the slow part
    assert tempo.bpm_at(0) == 120 and tempo.bpm_at(959) == 120 and tempo.bpm_at(960) == 60 and tempo.bpm_at(5000) == 240
    with pytest.raises(ValueError):
        tempo.tick_to_seconds(-1)


def test_tempo_map_normalises_order_and_duplicates():
    tempo = TempoMap([TempoChange(960, 400_000), TempoChange(0, 600_000), TempoChange(960, 300_000)], TPQ)
    assert tempo.changes == (TempoChange(0, 600_000), TempoChange(960, 300_000))  # the later one at a tick wins


def test_tempo_map_rescale_and_equality():
    tempo = TempoMap([TempoChange(960, 1_000_000)], TPQ)
    rescaled = tempo.with_ticks_per_quarter(96)
    assert rescaled.changes[1] == TempoChange(192, 1_000_000)
    assert rescaled.tick_to_seconds(288) == pytest.approx(tempo.tick_to_seconds(1440))
    assert tempo == TempoMap([TempoChange(960, 1_000_000)], TPQ)
    assert tempo != rescaled and hash(tempo) == hash(TempoMap([TempoChange(960, 1_000_000)], TPQ))


def test_bars_with_time_signature_changes():
    # Two bars of 4/4 (3840 ticks), three bars of 3/4 (3 x 1440), then 6/8 (bars of 1440, beats of 240).
    meter = TimeSignatureMap(
        [TimeSignatureChange(0, 4, 4), TimeSignatureChange(3840, 3, 4), TimeSignatureChange(8160, 6, 8)], TPQ
    )
    assert [meter.bar_to_tick(b) for b in range(7)] == [0, 1920, 3840, 5280, 6720, 8160, 9600]
    assert meter.bar_to_tick(2.5) == 3840 + 720
    assert meter.tick_to_bars(5280) == 3.0
    assert meter.tick_to_bars(8160 + 720) == 5.5
    assert meter.tick_to_position(0) == BarPosition(0, 0, 0)
    assert meter.tick_to_position(1920 + 480 * 3 + 5) == BarPosition(1, 3, 5)
    assert meter.tick_to_position(5280 + 960) == BarPosition(3, 2, 0)
    assert meter.tick_to_position(8160 + 240 * 4 + 100) == BarPosition(5, 4, 100)  # 6/8 counts eighths
    assert str(meter.tick_to_position(8160 + 240 * 4)) == "6:5"
    assert meter.position_to_tick(BarPosition(5, 4, 100)) == 8160 + 1060
    assert meter.next_bar_tick(3840) == 3840
    assert meter.next_bar_tick(3841) == 5280
    assert meter.ticks_per_bar_at(9000) == 1440
    assert meter.change_at(8159) == TimeSignatureChange(3840, 3, 4)


def test_a_change_off_the_bar_line_starts_a_new_bar():
    # 4/4, then 3/4 from beat 3 of bar 1: the partial bar counts as bar 0, the 3/4 starts bar 1.
    meter = TimeSignatureMap([TimeSignatureChange(960, 3, 4)], TPQ)
    assert meter.tick_to_position(960) == BarPosition(1, 0, 0)
    assert meter.bar_to_tick(1) == 960
    assert meter.bar_to_tick(2) == 960 + 1440


def test_time_signature_map_rescale():
    meter = TimeSignatureMap([TimeSignatureChange(3840, 3, 4)], TPQ).with_ticks_per_quarter(96)
    assert meter.changes[1] == TimeSignatureChange(768, 3, 4)
    assert meter.bar_to_tick(3) == 768 + 288
