"""The sink base class: validation, locking, panic, failure reporting; the fake sink."""

import threading

import mido
import pytest

from composer_app.playback.sink import (
    CC_ALL_NOTES_OFF,
    CC_ALL_SOUND_OFF,
    CC_SUSTAIN,
    FakeSink,
    Sink,
    panic_messages,
)


def test_send_validates_the_message():
    sink = FakeSink()
    with pytest.raises(TypeError, match="msg must be a mido.Message"):
        sink.send("note_on 60")
    with pytest.raises(TypeError, match="msg must be a mido.Message"):
        sink.send(mido.MetaMessage("set_tempo"))  # meta messages belong in files, not on the wire
    assert sink.messages == []


def test_fake_sink_records_messages_with_times_in_order():
    sink = FakeSink()
    a = mido.Message("note_on", note=60, velocity=90)
    b = mido.Message("note_off", note=60)
    assert sink.send(a) and sink.send(b)
    records = sink.records
    assert [m for _, m in records] == [a, b]
    assert records[0][0] <= records[1][0]


def test_panic_silences_every_channel():
    sink = FakeSink()
    sink.panic()
    sent = {(m.channel, m.control) for m in sink.messages}
    assert sent == {(c, cc) for c in range(16) for cc in (CC_SUSTAIN, CC_ALL_SOUND_OFF, CC_ALL_NOTES_OFF)}
    assert len(panic_messages()) == 48


def test_backend_failure_is_reported_not_raised():
    sink = FakeSink("synth A")
    heard = []
    sink.add_status_listener(lambda s: heard.append((s.ok, s.status)))
    sink.fail_after(2, "device unplugged")
    assert sink.send(mido.Message("note_on", note=60))
    assert not sink.send(mido.Message("note_on", note=61))  # the backend raises OSError here
    assert not sink.ok and sink.failed
    assert sink.status == "synth A: sending failed: device unplugged"
    assert heard == [(False, "synth A: sending failed: device unplugged")]
    assert not sink.send(mido.Message("note_on", note=62))  # dropped, no exception
    assert [m.note for m in sink.messages] == [60]


def test_closed_sink_refuses_to_send_and_close_panics_once():
    sink = FakeSink()
    sink.close()
    assert len(sink.messages) == 48  # panic on close
    assert sink.closed and not sink.ok and not sink.failed
    with pytest.raises(ValueError, match="closed sink"):
        sink.send(mido.Message("note_on", note=60))
    sink.close()
    assert len(sink.messages) == 48


def test_check_reports_a_lost_device():
    class Flaky(Sink):
        def __init__(self):
            super().__init__("flaky")
            self.present = True

        def _send(self, msg):
            pass

        def _check(self):
            return None if self.present else "flaky: gone"

    sink = Flaky()
    assert sink.check()
    sink.present = False
    assert not sink.check()
    assert sink.status == "flaky: gone"


def test_send_is_serialised_by_the_lock():
    class Slow(Sink):
        def __init__(self):
            super().__init__("slow")
            self.inside = 0
            self.overlaps = 0

        def _send(self, msg):
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1
            for _ in range(200):
                pass
            self.inside -= 1

    sink = Slow()
    def hammer():
        for _ in range(300):
            sink.send(mido.Message("clock"))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sink.overlaps == 0
