"""FluidSynth: finding a General MIDI soundfont, a synthesizer wrapper, and the live sink.

Three things may be missing, and each is a normal state that ``FluidSynthSink.status`` names:
the FluidSynth library (pyfluidsynth raises ImportError), a soundfont, or an audio device. Only
the last one still allows offline rendering (``render_to_wav``), which needs no device.

Note: pyfluidsynth's ``Synth.start()`` returns 0 even when no audio driver opened, so this module
creates the driver itself with ``new_fluid_audio_driver`` and checks for NULL.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import sys
from pathlib import Path

import mido
import numpy as np

from composer_app.errors import BadInputError
from composer_app.playback.native import quiet_native_stderr
from composer_app.playback.sink import Sink

log = logging.getLogger(__name__)

SOUNDFONT_ENV_VAR = "COMPOSER_APP_SOUNDFONT"
DEFAULT_SAMPLE_RATE_HZ = 44100
DEFAULT_GAIN = 0.5  # FluidSynth's master gain; 0.5 leaves headroom for a few voices at velocity 100

# Where operating systems and package managers put General MIDI soundfonts, best first per platform.
_LINUX_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian/Ubuntu fluid-soundfont-gm
    "/usr/share/sounds/sf2/TimGM6mb.sf2",  # Debian/Ubuntu timgm6mb-soundfont (pulled by libfluidsynth3)
    "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",  # musescore-general-soundfont-small
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf2/default-GM.sf2",  # Debian's alternatives link
    "/usr/share/soundfonts/FluidR3_GM.sf2",  # Arch, Fedora
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM2-2.sf2",
)
_MACOS_SOUNDFONTS = (
    "~/Library/Audio/Sounds/Banks/FluidR3_GM.sf2",
    "/Library/Audio/Sounds/Banks/FluidR3_GM.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
    "/opt/homebrew/share/fluid-synth/sf2/VintageDreamsWaves-v2.sf2",
    "/Applications/MuseScore 4.app/Contents/Resources/sound/MS Basic.sf3",
    "/Applications/MuseScore 3.app/Contents/Resources/sound/MuseScore_General.sf3",
)
_WINDOWS_SOUNDFONTS = (
    r"C:\soundfonts\FluidR3_GM.sf2",
    r"C:\soundfonts\default.sf2",
    r"%ProgramFiles%\MuseScore 4\sound\MS Basic.sf3",
    r"%ProgramFiles%\MuseScore 3\sound\MuseScore_General.sf3",
    r"C:\tools\fluidsynth\share\soundfonts\default.sf2",
)

# Audio drivers to try, in order, per platform (FluidSynth's names). The first that opens wins.
_AUDIO_DRIVERS = {
    "linux": ("pipewire", "pulseaudio", "jack", "alsa", "sdl2", "oss"),
    "darwin": ("coreaudio", "portaudio", "sdl2"),
    "win32": ("wasapi", "dsound", "waveout", "sdl2"),
}


class FluidSynthUnavailableError(RuntimeError):
    """FluidSynth cannot be used here (no library, or no soundfont at all); the message says why."""


class SoundfontError(BadInputError):
    """A soundfont the user named does not exist or FluidSynth cannot read it."""


def system_soundfont_paths() -> list[Path]:
    """The common soundfont locations for this platform, best first (existing or not)."""
    if sys.platform == "darwin":
        names = _MACOS_SOUNDFONTS
    elif sys.platform == "win32":
        names = _WINDOWS_SOUNDFONTS
    else:
        names = _LINUX_SOUNDFONTS
    return [Path(os.path.expandvars(os.path.expanduser(n))) for n in names]


def soundfont_search_order(user_setting: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``(where it came from, path)`` in search order: the user's setting, the env var, the system."""
    order: list[tuple[str, Path]] = []
    if user_setting:
        order.append(("setting", Path(user_setting).expanduser()))
    env = os.environ.get(SOUNDFONT_ENV_VAR)
    if env:
        order.append((SOUNDFONT_ENV_VAR, Path(env).expanduser()))
    order.extend(("system", p) for p in system_soundfont_paths())
    return order


def find_soundfont(user_setting: str | os.PathLike | None = None) -> Path | None:
    """The first existing soundfont: the user's setting, then ``$COMPOSER_APP_SOUNDFONT``, then the system's."""
    for _, path in soundfont_search_order(user_setting):
        if path.is_file():
            return path
    return None


def _import_fluidsynth():
    # pyfluidsynth prints where it found the library when $CI is set: keep our stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        import fluidsynth
    return fluidsynth


def load_fluidsynth():
    """Import pyfluidsynth, or raise ``FluidSynthUnavailableError`` saying what to install."""
    try:
        return _import_fluidsynth()
    except (ImportError, OSError) as error:
        raise FluidSynthUnavailableError(
            f"FluidSynth is not available ({error}): install the FluidSynth library "
            "(Debian/Ubuntu: libfluidsynth3; macOS: brew install fluid-synth) and pyfluidsynth"
        ) from error


def resolve_soundfont(soundfont: str | os.PathLike | None) -> Path:
    """The soundfont to use: the named one (must exist) or the first found; raise if there is none."""
    if soundfont is not None:
        path = Path(soundfont).expanduser()
        if not path.is_file():
            raise SoundfontError(f"soundfont not found: {path}")
        return path
    found = find_soundfont()
    if found is None:
        raise FluidSynthUnavailableError(
            f"no General MIDI soundfont found: set {SOUNDFONT_ENV_VAR} or install one "
            "(Debian/Ubuntu: timgm6mb-soundfont or fluid-soundfont-gm)"
        )
    return found


def _write_float_function(fluidsynth):
    """ctypes binding of ``fluid_synth_write_float`` (pyfluidsynth only wraps the dithered int16 one)."""
    function = fluidsynth._fl.fluid_synth_write_float
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, ctypes.c_int] + [ctypes.c_void_p, ctypes.c_int, ctypes.c_int] * 2
    return function


class Synthesizer:
    """A FluidSynth synthesizer with one soundfont loaded: MIDI messages in, stereo samples out."""

    def __init__(self, soundfont: Path, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ, gain: float = DEFAULT_GAIN):
        fluidsynth = load_fluidsynth()
        self._fluidsynth = fluidsynth
        self.sample_rate_hz = sample_rate_hz
        self.soundfont = Path(soundfont)
        self._synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate_hz))
        self._write_float = _write_float_function(fluidsynth)
        with quiet_native_stderr():
            self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            self._synth.delete()
            raise SoundfontError(f"FluidSynth cannot read the soundfont {self.soundfont}")
        for channel in range(16):
            self._synth.program_select(channel, self._sfid, 128 if channel == 9 else 0, 0)
        self.audio_driver_name: str | None = None

    def dispatch(self, msg: mido.Message) -> None:
        """Play one MIDI message on the synthesizer (types FluidSynth has no call for are ignored)."""
        synth, kind = self._synth, msg.type
        if kind == "note_on":
            if msg.velocity:
                synth.noteon(msg.channel, msg.note, msg.velocity)
            else:
                synth.noteoff(msg.channel, msg.note)
        elif kind == "note_off":
            synth.noteoff(msg.channel, msg.note)
        elif kind == "control_change":
            synth.cc(msg.channel, msg.control, msg.value)
        elif kind == "program_change":
            synth.program_change(msg.channel, msg.program)
        elif kind == "pitchwheel":
            synth.pitch_bend(msg.channel, msg.pitch)
        elif kind == "reset":
            synth.system_reset()

    def samples(self, frames: int) -> np.ndarray:
        """Render ``frames`` stereo frames: a float32 array of shape (frames, 2), full scale = 1.0.

        Float output (``fluid_synth_write_float``) has no dither, so silence is exactly zero.
        """
        out = np.zeros((max(frames, 0), 2), dtype=np.float32)
        if frames > 0:
            pointer = out.ctypes.data_as(ctypes.c_void_p)
            # Interleaved stereo: left at offset 0, right at offset 1, both with a stride of 2.
            self._write_float(self._synth.synth, frames, pointer, 0, 2, pointer, 1, 2)
        return out

    def open_audio_driver(self, drivers: tuple[str, ...] | None = None) -> tuple[str | None, str]:
        """Try each audio driver in turn; return (the one that opened or None, what was tried)."""
        fs = self._fluidsynth
        candidates = drivers or _AUDIO_DRIVERS.get(sys.platform, _AUDIO_DRIVERS["linux"])
        tried = []
        with quiet_native_stderr():
            for driver in candidates:
                self._synth.setting("audio.driver", driver)
                if driver == "jack":
                    self._synth.setting("audio.jack.autoconnect", 1)
                handle = fs.new_fluid_audio_driver(self._synth.settings, self._synth.synth)
                if handle:
                    self._synth.audio_driver = handle  # Synth.delete() frees it
                    self.audio_driver_name = driver
                    return driver, ", ".join(tried)
                tried.append(driver)
        return None, ", ".join(tried)

    def delete(self) -> None:
        if self._synth is not None:
            self._synth.delete()
            self._synth = None


class FluidSynthSink(Sink):
    """Live sound through FluidSynth and the platform's audio driver.

    ``soundfont``: a path, or None to search (``find_soundfont``). ``drivers``: FluidSynth audio
    driver names to try instead of the platform's list. After construction ``ok`` says whether
    sound can be heard and ``status`` says which driver plays or what is missing;
    ``can_render`` says whether offline rendering would work (library and soundfont present).
    """

    def __init__(
        self,
        soundfont: str | os.PathLike | None = None,
        *,
        drivers: tuple[str, ...] | None = None,
        sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
        gain: float = DEFAULT_GAIN,
    ) -> None:
        super().__init__("FluidSynth")
        self.synth: Synthesizer | None = None
        self.soundfont: Path | None = None
        self.audio_driver_name: str | None = None
        self.can_render = False
        try:
            self.soundfont = resolve_soundfont(soundfont)
            self.synth = Synthesizer(self.soundfont, sample_rate_hz, gain)
        except (FluidSynthUnavailableError, SoundfontError) as error:
            self._ok, self._status = False, str(error)
            return
        self.can_render = True
        driver, tried = self.synth.open_audio_driver(drivers)
        if driver is None:
            self.synth.delete()  # nothing would hear it; a big soundfont holds 100+ MB
            self.synth = None
            self._ok = False
            self._status = (
                f"no audio device (tried {tried}); offline rendering still works with {self.soundfont.name}"
            )
        else:
            self.audio_driver_name = driver
            self._status = f"playing through {driver} with {self.soundfont.name}"

    def _send(self, msg: mido.Message) -> None:
        self.synth.dispatch(msg)

    def _close(self) -> None:
        if self.synth is not None:
            self.synth.delete()
            self.synth = None
