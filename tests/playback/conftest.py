"""Playback test support.

The JACK fixtures (``jack_server_session``, ``jack_server``, ``midi_dump``) live in
tests/jack_fixtures.py, shared with the GUI tests; the constants the playback tests use are
re-exported here so ``from tests.playback.conftest import ...`` keeps working.
"""

from tests.jack_fixtures import (  # noqa: F401  (re-exported)
    JACK_PERIOD_FRAMES,
    JACK_PERIOD_S,
    JACK_SAMPLE_RATE_HZ,
    JACK_START_TIMEOUT_S,
    PLAY_ATTEMPTS,
)
