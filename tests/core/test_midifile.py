"""MIDI files: reading what others write, round trips, and refusing bad files with one clear error."""

from __future__ import annotations

import collections
import io
import os
import shutil
import subprocess
import wave
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer_app.core import midifile
from composer_app.core.midifile import (
    MAX_EVENTS,
    MAX_FILE_BYTES,
    MidiFileError,
    clip_to_midi_bytes,
    load_midi,
    load_midi_bytes,
    project_to_midi_bytes,
    save_clip,
    save_midi,
)
from composer_app.core.note import Note
from composer_app.core.project import LoopRegion, Project
from composer_app.core.theory import MODE_INTERVALS, Key
from composer_app.core.timing import TempoChange, TempoMap, TimeSignatureChange, TimeSignatureMap
from composer_app.core.track import Track
from composer_app.errors import BadInputError

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def mido_bytes(midi: mido.MidiFile) -> bytes:
    stream = io.BytesIO()
    midi.save(file=stream)
    return stream.getvalue()


def smf(*track_bodies: bytes, file_format: int = 1, division: int = 480) -> bytes:
    """A MIDI file assembled by hand from raw track bodies."""
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, file_format]) + len(track_bodies).to_bytes(2, "big")
    header += division.to_bytes(2, "big")
    return header + b"".join(b"MTrk" + len(body).to_bytes(4, "big") + body for body in track_bodies)


def reference_notes(midi: mido.MidiFile) -> list[tuple[int, int, int, int, int]]:
    """Notes as mido's own parser sees them, paired first-in-first-out (the independent check)."""
    notes = []
    for track in midi.tracks:
        tick, sounding = 0, collections.defaultdict(collections.deque)
        for message in track:
            tick += message.time
            if message.type == "note_on" and message.velocity > 0:
                sounding[message.channel, message.note].append((tick, message.velocity))
            elif message.type in ("note_on", "note_off") and sounding[message.channel, message.note]:
                start, velocity = sounding[message.channel, message.note].popleft()
                notes.append((start, message.note, max(tick - start, 1), velocity, message.channel))
        for (channel, pitch), starts in sounding.items():
            notes += [(start, pitch, max(tick - start, 1), velocity, channel) for start, velocity in starts]
    return sorted(notes)


def note_tuples(project: Project) -> list[tuple[int, int, int, int, int]]:
    return sorted(
        (n.start_tick, n.pitch, n.duration_ticks, n.velocity, n.channel) for t in project.tracks for n in t.notes
    )


def varied_project() -> Project:
    """Everything the model holds, in one project."""
    tpq = 96
    melody = [Note(i * 48, 60 + (i * 5) % 24, 40 + i % 3, 30 + i * 7 % 90, 0) for i in range(40)]
    overlapping = [Note(0, 64, 300), Note(100, 64, 300), Note(400, 64, 96), Note(496, 64, 96)]  # FIFO order, repeats
    drums = [Note(i * 24, (36, 38, 42)[i % 3], 1, 110, 9) for i in range(32)]
    two_channels = [Note(0, 40, 192, 80, 3), Note(192, 43, 192, 80, 4)]  # a track whose notes use two channels
    return Project(
        tracks=(
            Track("Mélodie ♪", program=73, channel=0, notes=melody + overlapping),
            Track("Drums", program=25, channel=9, notes=drums, solo=True),
            Track("Bass", program=33, channel=3, notes=two_channels, mute=True),
            Track("Empty pad", program=89, channel=5),
            Track("", program=0, channel=6, notes=[Note(10, 70, 5, 1, 7)]),  # notes only on another channel
        ),
        ticks_per_quarter=tpq,
        tempo_map=TempoMap([TempoChange(0, 416_667), TempoChange(384, 1_000_000), TempoChange(500, 123_456)], tpq),
        time_signatures=TimeSignatureMap(
            [TimeSignatureChange(0, 3, 4), TimeSignatureChange(288, 7, 8), TimeSignatureChange(624, 12, 16)], tpq
        ),
        loop=LoopRegion(96, 960),
        key=Key(2, "dorian"),
        title="Round trip",
    )


# ---------------------------------------------------------------------------------------------
# Round trips


def test_project_round_trips_exactly(tmp_path):
    project = varied_project()
    path = tmp_path / "song.mid"
    save_midi(project, path)
    assert load_midi(path) == project


def test_what_we_write_reads_the_same_in_mido(tmp_path):
    project = varied_project()
    midi = mido.MidiFile(file=io.BytesIO(project_to_midi_bytes(project)))
    assert midi.type == 1 and midi.ticks_per_beat == 96 and len(midi.tracks) == 1 + len(project.tracks)
    assert reference_notes(midi) == note_tuples(project)
    conductor = midi.tracks[0]
    assert [m.tempo for m in conductor if m.type == "set_tempo"] == [416_667, 1_000_000, 123_456]
    assert [(m.numerator, m.denominator) for m in conductor if m.type == "time_signature"] == [(3, 4), (7, 8), (12, 16)]
    assert [m.key for m in conductor if m.type == "key_signature"] == ["C"]  # D dorian has C major's signature
    programs = [(m.channel, m.program) for t in midi.tracks for m in t if m.type == "program_change"]
    assert programs == [(0, 73), (9, 25), (3, 33), (5, 89), (6, 0)]
    utf8 = mido.MidiFile(file=io.BytesIO(project_to_midi_bytes(project)), charset="utf-8")
    assert [m.name for m in utf8.tracks[1] if m.type == "track_name"] == ["Mélodie ♪"]


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_every_key_signature_round_trips(mode):
    for tonic in range(12):
        project = Project(key=Key(tonic, mode))
        midi = mido.MidiFile(file=io.BytesIO(project_to_midi_bytes(project)))
        (signature,) = [m.key for m in midi.tracks[0] if m.type == "key_signature"]
        assert signature.rstrip("m")[0] in "CDEFGAB" and signature.endswith("m") == (mode == "minor")
        assert load_midi_bytes(project_to_midi_bytes(project)).key == Key(tonic, mode)


def test_modes_round_trip_through_our_meta_event():
    for mode in MODE_INTERVALS:
        project = Project(key=Key(7, mode))
        assert load_midi_bytes(project_to_midi_bytes(project)).key == Key(7, mode)


def test_round_trip_keeps_resolution_and_default_maps():
    project = Project(tracks=(Track("x", notes=[Note(0, 60, 1)]),), ticks_per_quarter=7, title="t")
    assert load_midi_bytes(project_to_midi_bytes(project)) == project


def test_overlapping_same_pitch_notes_nested_come_back_first_in_first_out():
    """A limit of MIDI itself (documented): a note nested in another of the same pitch swaps ends."""
    project = Project(tracks=(Track("x", notes=[Note(0, 60, 300), Note(100, 60, 100)]),), title="t")
    back = load_midi_bytes(project_to_midi_bytes(project))
    assert note_tuples(back) == [(0, 60, 200, 100, 0), (100, 60, 200, 100, 0)]


def test_example_files_parse_like_mido_and_round_trip():
    for path in sorted(EXAMPLES.glob("*.mid")):
        project = load_midi(path)
        assert note_tuples(project) == reference_notes(mido.MidiFile(path)), path.name
        assert load_midi_bytes(project_to_midi_bytes(project), path.name) == project


def installed_midi_files() -> list[Path]:
    """.mid files that ship inside installed packages (music21 has a few dozen test files)."""
    site = Path(mido.__file__).resolve().parents[1]
    return sorted(site.rglob("*.mid"))


def test_midi_files_of_installed_packages_read_like_mido_and_round_trip():
    files = installed_midi_files()
    checked = 0
    for path in files[:: max(1, len(files) // 12)]:  # a dozen of them, spread out
        project = load_midi(path)
        assert note_tuples(project) == reference_notes(mido.MidiFile(path)), path.name
        assert load_midi_bytes(project_to_midi_bytes(project), path.name) == project, path.name
        checked += 1
    assert checked >= 6


# ---------------------------------------------------------------------------------------------
# Reading what other programs write


def test_format_1_file_written_by_mido():
    midi = mido.MidiFile(type=1, ticks_per_beat=240)
    conductor = midi.add_track("My Song")
    conductor += [
        mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
        mido.MetaMessage("key_signature", key="Ebm", time=0),
        mido.MetaMessage("set_tempo", tempo=400_000, time=0),
        mido.MetaMessage("set_tempo", tempo=800_000, time=1440),
        mido.MetaMessage("time_signature", numerator=2, denominator=4, time=0),
    ]
    piano = midi.add_track("Piano")
    piano += [
        mido.Message("program_change", channel=2, program=5, time=0),
        mido.Message("note_on", channel=2, note=60, velocity=90, time=0),
        mido.Message("note_on", channel=2, note=60, velocity=70, time=100),  # overlaps the same pitch
        mido.Message("note_on", channel=2, note=60, velocity=0, time=100),  # velocity 0: note-off
        mido.Message("note_off", channel=2, note=60, velocity=40, time=100),
        mido.Message("note_off", channel=2, note=61, velocity=40, time=0),  # no such note sounding: ignored
        mido.Message("note_on", channel=2, note=67, velocity=50, time=20),  # never closed
        mido.Message("control_change", channel=2, control=64, value=127, time=80),
        mido.Message("program_change", channel=2, program=9, time=0),  # a later program change is not kept
    ]
    drums = midi.add_track("Kit")
    drums += [
        mido.Message("note_on", channel=9, note=36, velocity=127, time=0),
        mido.Message("note_off", channel=9, note=36, velocity=0, time=0),  # on and off at once: one tick
        mido.Message("note_on", channel=9, note=42, velocity=100, time=120),
        mido.Message("note_off", channel=9, note=42, velocity=0, time=60),
    ]
    midi.add_track("Setup").append(mido.Message("control_change", channel=4, control=7, value=100))

    project = load_midi_bytes(mido_bytes(midi), "song.mid")
    assert project.title == "My Song" and project.ticks_per_quarter == 240
    assert project.key == Key(3, "minor")
    assert project.tempo_map.changes == (TempoChange(0, 400_000), TempoChange(1440, 800_000))
    assert project.time_signatures.changes == (TimeSignatureChange(0, 6, 8), TimeSignatureChange(1440, 2, 4))
    assert [(t.name, t.program, t.channel) for t in project.tracks] == [("Piano", 5, 2), ("Kit", 0, 9)]
    assert project.tracks[1].is_drums
    piano_notes = project.tracks[0].notes
    assert piano_notes == (Note(0, 60, 200, 90, 2), Note(100, 60, 200, 70, 2), Note(320, 67, 80, 50, 2))
    assert project.tracks[1].notes == (Note(0, 36, 1, 127, 9), Note(120, 42, 60, 100, 9))


def test_format_0_file_splits_into_one_track_per_channel():
    midi = mido.MidiFile(type=0)
    track = midi.add_track("Whole song")
    track += [
        mido.MetaMessage("set_tempo", tempo=500_000),
        mido.Message("program_change", channel=0, program=40),
        mido.Message("program_change", channel=1, program=32),
        mido.Message("note_on", channel=0, note=72, velocity=80),
        mido.Message("note_on", channel=1, note=36, velocity=80),
        mido.Message("note_on", channel=9, note=38, velocity=80),
        mido.Message("note_off", channel=0, note=72, time=480),
        mido.Message("note_off", channel=1, note=36),
        mido.Message("note_off", channel=9, note=38),
    ]
    project = load_midi_bytes(mido_bytes(midi), "whole.mid")
    assert project.title == "Whole song"
    assert [(t.name, t.program, t.channel, len(t.notes)) for t in project.tracks] == [
        ("Violin (ch 1)", 40, 0, 1),
        ("Acoustic Bass (ch 2)", 32, 1, 1),
        ("Drums (ch 10)", 0, 9, 1),
    ]


def test_format_2_patterns_play_one_after_the_other():
    first = b"\x00\x90\x3c\x40\x83\x60\x80\x3c\x40\x00\xff\x2f\x00"  # a note of 480 ticks
    second = b"\x00\x90\x3e\x40\x81\x70\x80\x3e\x40\x00\xff\x2f\x00"  # a note of 240 ticks
    project = load_midi_bytes(smf(first, second, file_format=2), "patterns.mid")
    assert note_tuples(project) == [(0, 60, 480, 64, 0), (480, 62, 240, 64, 0)]
    assert project.title == "patterns"  # no names: the file's stem


def test_running_status_across_notes_and_meta_events():
    body = (
        b"\x00\xff\x03\x04Lead"  # track name
        b"\x00\x91\x3c\x64"  # note on, channel 1
        b"\x00\x40\x64"  # running status: another note on
        b"\x60\x3c\x00"  # running status, velocity 0: note off
        b"\x00\xff\x01\x01x"  # a text meta event in between (does not cancel running status here)
        b"\x00\x40\x00"  # running status continues: note off
        b"\x00\xf0\x03\x7e\x7f\xf7"  # sysex, skipped
        b"\x00\xff\x2f\x00"
    )
    project = load_midi_bytes(smf(body), "rs.mid")
    assert note_tuples(project) == [(0, 60, 96, 100, 1), (0, 64, 96, 100, 1)]
    assert project.tracks[0].name == "Lead" and project.tracks[0].channel == 1


def test_text_that_is_not_utf8_is_read_as_latin1_and_riff_wrapped_files_open():
    body = b"\x00\xff\x03\x04Caf\xe9\x00\x90\x3c\x40\x10\x80\x3c\x40\x00\xff\x2f\x00"
    data = smf(body)
    riff_body = b"RMID" + b"data" + len(data).to_bytes(4, "little") + data
    riff = b"RIFF" + len(riff_body).to_bytes(4, "little") + riff_body
    project = load_midi_bytes(riff, "song.rmi")
    assert project.tracks[0].name == "Café" and project.note_count == 1


def test_unknown_chunks_are_skipped_and_bytes_after_end_of_track_ignored():
    track = b"MTrk" + (8).to_bytes(4, "big") + b"\x00\xff\x2f\x00" + b"\x00\x90\x3c\x40"
    alien = b"XFIH" + (3).to_bytes(4, "big") + b"abc"
    data = b"MThd" + (6).to_bytes(4, "big") + b"\x00\x01\x00\x01\x01\xe0" + alien + track
    assert load_midi_bytes(data).note_count == 0


# ---------------------------------------------------------------------------------------------
# Bad files: one MidiFileError with one clear line


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "bad.mid: empty file (0 bytes)"),
        (b"hello, I am a text file\n", "bad.mid: not a MIDI file (no MThd header)"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "bad.mid: truncated (the header needs 14 bytes, the file has 10)"),
        (b"MThd\x00\x00\x00\x06\x00\x03\x00\x01\x01\xe0", "bad.mid: unknown MIDI format 3 (0, 1 or 2 expected)"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\xe7\x28",
            "bad.mid: SMPTE time division is not supported (only ticks per quarter note)",
        ),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x00", "bad.mid: corrupt header (0 ticks per quarter note)"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
            "bad.mid: truncated (the header announces 2 tracks, the file holds 1)",
        ),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00\x00\x90",
            "bad.mid: truncated (track 1 of 1 needs 256 bytes from byte 22, the file ends at byte 24)",
        ),
        (smf(b"\x00\x3c\x40"), "bad.mid: corrupt track 1 (a data byte without a status at byte 23)"),
        (smf(b"\x00\x90\x3c"), "bad.mid: corrupt track 1 (an event is cut off at byte 24)"),
        (smf(b"\x00\x90\x3c\x80"), "bad.mid: corrupt track 1 (a data byte above 127 before byte 26)"),
        (smf(b"\x00\xf4"), "bad.mid: corrupt track 1 (status byte 0xF4 at byte 23)"),
        (smf(b"\xff\xff\xff\xff\x7f\x90"), "bad.mid: corrupt track 1 (a number longer than 4 bytes at byte 26)"),
        (smf(b"\x00\xff\x03\x10ab"), "bad.mid: corrupt track 1 (an event is cut off at byte 26)"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0\x00\x01\x02\x03\x00\x00\x00\x00",
            "bad.mid: corrupt (no track chunk at byte 14)",
        ),
    ],
)
def test_bad_bytes_raise_one_clear_error(data, message):
    with pytest.raises(MidiFileError) as info:
        load_midi_bytes(data, "bad.mid")
    assert str(info.value) == message
    assert isinstance(info.value, BadInputError)


def test_missing_file_folder_and_pipe(tmp_path):
    with pytest.raises(MidiFileError, match="nothing.mid: no such file$"):
        load_midi(tmp_path / "nothing.mid")
    with pytest.raises(MidiFileError, match=": is a folder, not a file$"):
        load_midi(tmp_path)
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    with pytest.raises(MidiFileError, match="pipe.mid: not a regular file$"):  # and it does not block
        load_midi(fifo)


def test_huge_file_is_refused_by_its_size_before_it_is_read(tmp_path):
    path = tmp_path / "huge.mid"
    with open(path, "wb") as stream:  # a sparse file: 1 GiB on paper, a few bytes on disk
        stream.write(smf(b"\x00\xff\x2f\x00"))
        stream.truncate(1 << 30)
    with pytest.raises(MidiFileError) as info:
        load_midi(path)
    assert str(info.value) == f"{path}: too large (1,073,741,824 bytes; the limit is {MAX_FILE_BYTES:,})"


def test_millions_of_events_are_refused_at_the_event_limit():
    # Two million events (note-on and note-off with running status), then garbage. The reader
    # stops at MAX_EVENTS: had it gone on it would have met the garbage and called the file corrupt.
    pair = b"\x00\x3c\x40\x00\x3c\x00"
    body = b"\x00\x90\x3c\x40" + pair * 1_000_000 + b"\x00\xf4\xf4\xf4"
    data = smf(body)
    assert len(data) < MAX_FILE_BYTES and MAX_EVENTS < 2_000_000
    with pytest.raises(MidiFileError) as info:
        load_midi_bytes(data, "black.mid")
    assert str(info.value) == f"black.mid: too many events (more than {MAX_EVENTS:,}); refusing to load it"


def test_the_event_limit_counts_all_tracks_together(monkeypatch):
    monkeypatch.setattr(midifile, "MAX_EVENTS", 10)
    track = b"\x00\x90\x3c\x40\x00\x80\x3c\x40" * 3  # six events
    assert load_midi_bytes(smf(track)).note_count == 3
    with pytest.raises(MidiFileError, match="too many events"):
        load_midi_bytes(smf(track, track))


def valid_files() -> list[bytes]:
    files = [path.read_bytes() for path in sorted(EXAMPLES.glob("*.mid"))]
    files.append(project_to_midi_bytes(varied_project()))
    files.append(clip_to_midi_bytes([Note(0, 60, 480), Note(480, 62, 480, 90, 9)]))
    return files


VALID = valid_files()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(VALID) - 1),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_mutated_and_truncated_files_give_a_project_or_a_midi_file_error(which, edits, cut):
    data = bytearray(VALID[which])
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    try:
        project = load_midi_bytes(bytes(data), "mutant.mid")
    except MidiFileError as error:
        message = str(error)
        assert message.startswith("mutant.mid: ") and "\n" not in message
    else:
        assert isinstance(project, Project)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_after_a_header_never_raise_anything_else(tail):
    try:
        load_midi_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60" + tail)
    except MidiFileError:
        pass


# ---------------------------------------------------------------------------------------------
# Clips and writing


def test_clip_is_a_format_0_file_with_the_prompt_tempo_and_meter(tmp_path):
    tempo = TempoMap([TempoChange(0, 625_000)], 960)  # 96 BPM, at another resolution than the clip
    meter = TimeSignatureMap([TimeSignatureChange(0, 3, 4)], 960)
    notes = [Note(0, 67, 240), Note(240, 69, 240, 90), Note(480, 36, 120, 100, 9)]
    path = tmp_path / "candidate-1.mid"
    save_clip(notes, path, ticks_per_quarter=480, tempo_map=tempo, time_signatures=meter, program=40, name="Idea")
    midi = mido.MidiFile(path)
    assert midi.type == 0 and len(midi.tracks) == 1 and midi.ticks_per_beat == 480
    assert {(m.channel, m.program) for m in midi.tracks[0] if m.type == "program_change"} == {(0, 40), (9, 40)}
    project = load_midi(path)
    assert project.tempo_map == TempoMap([TempoChange(0, 625_000)], 480)
    assert project.time_signatures == TimeSignatureMap([TimeSignatureChange(0, 3, 4)], 480)
    assert note_tuples(project) == sorted((n.start_tick, n.pitch, n.duration_ticks, n.velocity, n.channel) for n in notes)
    assert [(t.name, t.program) for t in project.tracks] == [("Violin (ch 1)", 40), ("Drums (ch 10)", 40)]
    assert project.title == "Idea"  # the one track's name


def test_single_channel_clip_comes_back_as_one_named_track():
    project = load_midi_bytes(clip_to_midi_bytes([Note(0, 60, 480)], program=5, name="Hook"))
    assert [(t.name, t.program, t.channel) for t in project.tracks] == [("Hook", 5, 0)]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "song.mid"
    save_midi(varied_project(), path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(MidiFileError) as info:
        save_midi(Project(title="new"), path)
    assert str(info.value) == f"{path}: cannot write (No space left on device)"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.mid"]


def test_writing_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MidiFileError, match="cannot write"):
        save_midi(Project(), tmp_path / "no" / "such" / "folder.mid")


def test_fluidsynth_plays_what_we_write(tmp_path):
    """A third-party reader: FluidSynth renders our file to audio as long as the music."""
    assert shutil.which("fluidsynth"), "the fluidsynth program comes with 'scripts/setup.sh --test'"
    assert Path("/usr/share/sounds/sf2/TimGM6mb.sf2").exists(), "the TimGM6mb soundfont comes with scripts/setup.sh"
    path, wav = tmp_path / "waltz.mid", tmp_path / "waltz.wav"
    project = load_midi(EXAMPLES / "two_track_waltz.mid")
    save_midi(project, path)
    result = subprocess.run(
        ["fluidsynth", "-ni", "-g", "1.0", "-r", "22050", "-F", str(wav), "/usr/share/sounds/sf2/TimGM6mb.sf2", str(path)],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    with wave.open(str(wav)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
        frames = audio.readframes(audio.getnframes())
    assert project.duration_seconds <= seconds <= project.duration_seconds + 5  # plus the release tail
    assert max(frames) > 0  # not silence


def test_volume_pan_and_markers_round_trip_as_cc7_cc10_and_marker_events(tmp_path):
    from composer_app.core.project import Marker

    project = Project(
        tracks=(Track("Lead", program=5, channel=0, notes=(Note(0, 60, 480),), volume=70, pan=100),),
        markers=(Marker(960, "Bridge"),),
    )
    path = tmp_path / "mix.mid"
    midifile.save_midi(project, path)
    messages = [m for track in mido.MidiFile(path).tracks for m in track]
    assert ("control_change", 7, 70) in [(m.type, getattr(m, "control", None), getattr(m, "value", None)) for m in messages]
    assert ("control_change", 10, 100) in [(m.type, getattr(m, "control", None), getattr(m, "value", None)) for m in messages]
    assert [m.text for m in messages if m.type == "marker"] == ["Bridge"]
    loaded = midifile.load_midi(path)
    assert (loaded.tracks[0].volume, loaded.tracks[0].pan) == (70, 100)
    assert loaded.markers == (Marker(960, "Bridge"),)
