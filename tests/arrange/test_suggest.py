"""Chord suggestions for a melody: the shipped model, mood-aware rhythm and colour, alternatives."""

from __future__ import annotations

import numpy as np
import pytest

from composer_app.arrange.suggest import (
    ChordModel,
    chord_tone_rate,
    choose_key,
    harmonic_rhythm_beats,
    load_default_model,
    melody_line,
    suggest_chords,
)
from composer_app.core.midifile import load_midi
from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.track import Track


@pytest.fixture(scope="module")
def c_major(resources_dir=None):
    from tests.conftest import RESOURCES

    return load_midi(RESOURCES / "examples" / "c_major_melody.mid")


@pytest.fixture(scope="module")
def a_minor():
    from tests.conftest import RESOURCES

    return load_midi(RESOURCES / "examples" / "a_minor_melody.mid")


def test_the_shipped_model_learned_functional_harmony():
    model = load_default_model()
    # In major keys, V (G from C) goes to I more than anywhere else; IV and V start fewer pieces than I.
    from composer_app.arrange.suggest import chord_state

    five, one = chord_state(7, "maj"), chord_state(0, "maj")
    assert int(np.argmax(model.transition[0][five])) == one
    assert int(np.argmax(model.initial[0])) == one
    assert int(np.argmax(model.final[1])) in (chord_state(0, "m"), chord_state(0, "maj"))  # minor pieces end on i or I (Picardy)


def test_suggestions_fit_the_melody_and_start_and_end_home(c_major):
    options = suggest_chords(c_major, alternatives=4)
    assert 2 <= len(options) <= 4
    assert len({tuple(o.symbols) for o in options}) == len(options)  # distinct
    best = options[0]
    assert best.tonic_pc == 0 and not best.minor
    assert best.symbols[0] == "C" and best.symbols[-1] == "C"
    melody = c_major.tracks[0].notes
    rate, count = chord_tone_rate(melody, best.chords, c_major.time_signatures)
    assert count >= 12 and rate >= 0.85
    assert best.chords.covers(0, c_major.time_signatures.bar_to_tick(8))


def test_minor_melody_gets_a_minor_progression(a_minor):
    best = suggest_chords(a_minor, alternatives=1)[0]
    assert (best.tonic_pc, best.minor) == (9, True)
    assert best.symbols[0] in ("Am", "Am7") and best.symbols[-1] in ("Am", "A")


def test_arousal_sets_the_harmonic_rhythm(c_major):
    assert harmonic_rhythm_beats(-0.8, 4) == 4 and harmonic_rhythm_beats(0.0, 4) == 2 and harmonic_rhythm_beats(0.9, 4) == 1
    assert harmonic_rhythm_beats(0.0, 3) == 3
    calm = suggest_chords(c_major, arousal=-0.8, alternatives=1)[0]
    busy = suggest_chords(c_major, arousal=0.9, alternatives=1)[0]
    bar = c_major.time_signatures.bar_to_tick(1)
    assert all(e.start_tick % bar == 0 for e in calm.chords)
    assert len(busy.chords) > len(calm.chords)


def test_valence_picks_the_mode_of_an_ambiguous_melody_and_the_colour():
    # C D E G A G E D C: a pentatonic line that reads as C major or A minor.
    tpq = 480
    pitches = [69, 67, 64, 62, 60, 62, 64, 67, 69, 64, 60, 69]
    notes = [Note(i * tpq, p, tpq) for i, p in enumerate(pitches)]
    project = Project(tracks=(Track("Melody", notes=notes),))
    happy = choose_key(notes, 0.8)
    sad = choose_key(notes, -0.8)
    assert happy != sad and {happy[1], sad[1]} == {False, True}
    sad_chords = suggest_chords(project, valence=-0.8, alternatives=1)[0]
    happy_chords = suggest_chords(project, valence=0.8, alternatives=1)[0]
    minor_share = lambda s: sum(e.chord.is_minor for e in s.chords) / len(s.chords)
    assert minor_share(sad_chords) > minor_share(happy_chords)


def test_triads_only_and_reproducible(c_major):
    a = suggest_chords(c_major, sevenths=False, seed=4)
    b = suggest_chords(c_major, sevenths=False, seed=4)
    assert [o.symbols for o in a] == [o.symbols for o in b]
    assert all(not e.chord.is_seventh for o in a for e in o.chords)


def test_melody_line_takes_the_top_voice():
    notes = [Note(0, 60, 480), Note(0, 64, 480), Note(0, 67, 960), Note(480, 62, 480), Note(960, 65, 480)]
    assert [n.pitch for n in melody_line(notes)] == [67, 65]


def test_nothing_to_harmonize_gives_nothing():
    assert suggest_chords(Project()) == []


def test_model_file_round_trip(tmp_path):
    model = load_default_model()
    model.save(tmp_path / "m.safetensors")
    again = ChordModel.load(tmp_path / "m.safetensors")
    assert np.allclose(np.exp(again.transition), np.exp(model.transition), atol=1e-3)
    assert again.has_classifier and np.allclose(again.clf_weight, model.clf_weight, atol=1e-2)
    (tmp_path / "bad.safetensors").write_bytes(b"nonsense")
    with pytest.raises(Exception):
        ChordModel.load(tmp_path / "bad.safetensors")


def test_the_classifier_reads_the_melody_around_each_beat():
    """The shipped per-beat classifier: a leading tone resolving up at a cadence reads as V then I, and
    the melody note on a strong beat is a tone of the chord it proposes."""
    from composer_app.arrange.chord_classifier import N_FEATURES, Beat, beat_features, log_posteriors
    from composer_app.arrange.suggest import state_chord

    model = load_default_model()
    assert model.has_classifier and model.clf_weight.shape[0] == N_FEATURES
    tpq = 480

    def chords(pitches):
        starts = [i * tpq for i in range(len(pitches))]
        beats = [Beat(s, s + tpq, i % 4, 4) for i, s in enumerate(starts)]
        x = beat_features(pitches, starts, [s + tpq for s in starts], beats, 0, False)
        assert x.shape == (len(pitches), N_FEATURES)
        return [state_chord(int(s), 0) for s in log_posteriors(x, model.clf_weight, model.clf_bias).argmax(axis=1)]

    cadence = chords([64, 62, 71, 72])  # E D B C: ... V I
    assert cadence[2].root_pc == 7 and cadence[3].root_pc == 0 and not cadence[3].is_minor
    melody = [60, 62, 64, 65, 67, 69, 67, 65, 64, 62, 64, 67, 72, 71, 74, 72]
    got = chords(melody)
    assert all(melody[i] % 12 in got[i].pitch_classes for i in range(0, len(melody), 2))
