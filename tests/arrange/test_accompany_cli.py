"""`composer-app accompany` as users run it: a real subprocess, real MIDI files in and out."""

from __future__ import annotations

import io
import json

import mido

from composer_app.core.midifile import load_midi
from tests.test_cli import EXAMPLES, composer_app


def test_accompany_a_melody_as_a_waltz_on_piano_with_a_cello_bass(tmp_path):
    out = tmp_path / "out.mid"
    result = composer_app("accompany", str(EXAMPLES / "c_major_melody.mid"), "-o", str(out), "--style", "waltz",
                          "--instrument", "piano", "--bass-instrument", "Cello", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["style"] == "waltz" and report["chords_from"] == "estimated"
    assert [(t["name"], t["program"]) for t in report["tracks"]] == [("Accompaniment (waltz)", 0), ("Bass (waltz)", 42)]
    project = load_midi(out)
    melody = load_midi(EXAMPLES / "c_major_melody.mid").tracks[0]
    assert project.tracks[0].notes == melody.notes  # the input is kept unchanged
    assert [t.name for t in project.tracks] == ["Melody", "Accompaniment (waltz)", "Bass (waltz)"]
    assert project.chords.symbols() == [c["symbol"] for c in report["chords"]]
    markers = [m.text for m in mido.MidiFile(file=io.BytesIO(out.read_bytes())).tracks[1] if m.type == "marker"]
    assert markers == project.chords.symbols()


def test_accompany_keeps_the_chords_a_file_already_has(tmp_path):
    first, second = tmp_path / "a.mid", tmp_path / "b.mid"
    assert composer_app("accompany", str(EXAMPLES / "a_minor_melody.mid"), "-o", str(first)).returncode == 0
    result = composer_app("accompany", str(first), "-o", str(second), "--style", "pad", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["chords_from"] == "file"
    assert [c["symbol"] for c in report["chords"]] == load_midi(first).chords.symbols()


def test_accompany_bad_input_is_one_line_and_exit_2(tmp_path):
    missing = composer_app("accompany", str(tmp_path / "nope.mid"), "-o", str(tmp_path / "x.mid"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("nope.mid: no such file")
    bad_mood = composer_app("accompany", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path / "x.mid"), "--valence", "3")
    assert bad_mood.returncode == 2 and bad_mood.stderr.strip() == "composer-app: --valence must be in range -1..1"
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"not midi at all")
    bad_file = composer_app("accompany", str(junk), "-o", str(tmp_path / "x.mid"))
    assert bad_file.returncode == 2 and len(bad_file.stderr.strip().splitlines()) == 1
    bad_style = composer_app("accompany", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path / "x.mid"), "--style", "polka")
    assert bad_style.returncode == 2
    bad_instrument = composer_app("accompany", str(EXAMPLES / "c_major_melody.mid"), "-o", str(tmp_path / "x.mid"),
                                  "--instrument", "kazoo")
    assert bad_instrument.returncode == 2 and "no single GM instrument named 'kazoo'" in bad_instrument.stderr
    assert not (tmp_path / "x.mid").exists()
