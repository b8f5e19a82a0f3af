"""FluidSynth: the soundfont search order, and every missing piece reported as a status."""

import mido
import pytest

from composer_app.playback import fluid
from composer_app.playback.fluid import (
    SOUNDFONT_ENV_VAR,
    FluidSynthSink,
    FluidSynthUnavailableError,
    find_soundfont,
    load_fluidsynth,
    soundfont_search_order,
)


@pytest.fixture
def no_system_soundfonts(monkeypatch, tmp_path):
    """Pretend the system has no soundfont in its usual places and no env var is set."""
    monkeypatch.setattr(fluid, "system_soundfont_paths", lambda: [tmp_path / "missing" / "FluidR3_GM.sf2"])
    monkeypatch.delenv(SOUNDFONT_ENV_VAR, raising=False)


def _font(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"RIFF....sfbk")  # only its existence matters for the search
    return path


def test_search_order_setting_then_env_then_system(monkeypatch, tmp_path, no_system_soundfonts):
    setting, env = _font(tmp_path, "mine.sf2"), _font(tmp_path, "env.sf2")
    system = _font(tmp_path, "system.sf2")
    monkeypatch.setattr(fluid, "system_soundfont_paths", lambda: [tmp_path / "absent.sf2", system])
    monkeypatch.setenv(SOUNDFONT_ENV_VAR, str(env))
    assert find_soundfont(setting) == setting
    assert find_soundfont(None) == env
    assert find_soundfont(tmp_path / "gone.sf2") == env  # a stale setting falls through
    monkeypatch.delenv(SOUNDFONT_ENV_VAR)
    assert find_soundfont() == system
    assert [where for where, _ in soundfont_search_order(setting)] == ["setting", "system", "system"]


def test_no_soundfont_anywhere(no_system_soundfonts):
    assert find_soundfont() is None
    sink = FluidSynthSink()
    assert not sink.ok and not sink.can_render
    assert "no General MIDI soundfont found" in sink.status and SOUNDFONT_ENV_VAR in sink.status
    assert not sink.send(mido.Message("note_on", note=60))  # dropped, the app goes on
    sink.close()


def test_missing_soundfont_path_is_reported(tmp_path):
    missing = tmp_path / "nowhere" / "Piano.sf2"
    sink = FluidSynthSink(missing)
    assert not sink.ok and not sink.can_render
    assert sink.status == f"soundfont not found: {missing}"
    sink.panic()
    sink.close()


def test_unreadable_soundfont_is_reported(tmp_path):
    bogus = tmp_path / "bogus.sf2"
    bogus.write_bytes(b"this is not a soundfont")
    sink = FluidSynthSink(bogus)
    assert not sink.ok
    assert sink.status == f"FluidSynth cannot read the soundfont {bogus}"


def test_missing_fluidsynth_library_is_reported(monkeypatch):
    def no_library():
        raise ImportError("Couldn't find the FluidSynth library.")

    monkeypatch.setattr(fluid, "_import_fluidsynth", no_library)
    with pytest.raises(FluidSynthUnavailableError, match="install the FluidSynth library"):
        load_fluidsynth()
    sink = FluidSynthSink()
    assert not sink.ok and not sink.can_render
    assert sink.status.startswith("FluidSynth is not available (Couldn't find the FluidSynth library.)")
    sink.close()


def test_real_synth_without_an_audio_device_can_still_render():
    """On a machine with no sound card every driver fails: a status, not a crash, and render works."""
    assert find_soundfont() is not None, "the test machine needs a GM soundfont (timgm6mb-soundfont)"
    sink = FluidSynthSink(drivers=("alsa", "oss"))  # drivers that need a sound card
    try:
        assert sink.can_render
        assert not sink.ok
        assert sink.status.startswith("no audio device (tried alsa, oss)")
        assert "offline rendering still works" in sink.status
    finally:
        sink.close()


def test_unknown_driver_names_are_tried_and_reported():
    sink = FluidSynthSink(drivers=("no-such-driver",))
    try:
        assert sink.status.startswith("no audio device (tried no-such-driver)")
    finally:
        sink.close()
