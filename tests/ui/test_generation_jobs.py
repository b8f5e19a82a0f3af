"""The generation worker process dies (SIGKILL, out of memory): it is restarted and nothing waits forever.

Finding 6 of issue 9: after the worker was killed, the next Suggest showed "Suggesting… 0 of 4"
forever. Real worker processes with the shipped model; the panel and its Suggest button are the
real widgets. The out-of-memory case puts a real address-space limit on the running worker
(``prlimit --as``), so its next big allocation fails as it would on a machine without memory left.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from composer_app.ui.generation_jobs import ERROR, LOADING, READY, describe_exit
from tests.ui.test_suggestions import rig  # noqa: F401 - the panel + mood panel + real jobs fixture

START_TIMEOUT_MS = 90_000  # a fresh worker imports torch and loads the weights


def _wait_ready(qtbot, jobs, old_pid: int | None = None) -> int:
    qtbot.waitUntil(lambda: jobs.state == READY and jobs._process is not None and jobs._process.pid != old_pid,
                    timeout=START_TIMEOUT_MS)
    return jobs._process.pid


def _suggest(qtbot, mood, jobs, candidates: int = 2, bars: int = 2):
    mood.candidates_spin.setValue(candidates)
    mood.bars_spin.setValue(bars)
    with qtbot.waitSignal(jobs.finished, timeout=60_000) as blocker:
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    return blocker


def _vm_size_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def test_killed_idle_worker_is_restarted_and_the_next_suggest_is_answered(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig()
    pid = _wait_ready(qtbot, jobs)
    states = []
    jobs.model_state_changed.connect(lambda state, message: states.append((state, message)))
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: any(state == LOADING for state, _ in states), timeout=5000)
    assert "was killed (signal 9, SIGKILL)" in states[0][1] and "restarting" in states[0][1]
    # Suggest at once, while the new worker still loads: the request waits for it, then is answered.
    mood.candidates_spin.setValue(2)
    mood.bars_spin.setValue(2)
    with qtbot.waitSignal(jobs.finished, timeout=START_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    assert len(blocker.args[1]) == 2 and panel.list.count() == 2
    assert jobs._process.pid != pid


def test_worker_killed_mid_request_fails_it_readably_and_restarts(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig()
    pid = _wait_ready(qtbot, jobs)
    mood.candidates_spin.setValue(16)
    mood.bars_spin.setValue(32)
    with qtbot.waitSignal(jobs.started, timeout=10_000):
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(jobs.errored, timeout=5000) as failed:
        os.kill(pid, signal.SIGKILL)
    message = failed.args[1]
    assert message.startswith("The generation process was killed (signal 9, SIGKILL)") and "\n" not in message
    assert "Suggest again" in message
    qtbot.waitUntil(lambda: panel.error.isVisible() and "killed" in panel.error.text(), timeout=2000)
    assert "Suggesting" not in panel.status.text()
    _wait_ready(qtbot, jobs, pid)
    blocker = _suggest(qtbot, mood, jobs)
    assert len(blocker.args[1]) == 2


def test_worker_out_of_memory_fails_the_request_and_restarts(rig, qtbot, tmp_path):
    doc, mood, panel, jobs, controller, *_ = rig()
    pid = _wait_ready(qtbot, jobs)
    _suggest(qtbot, mood, jobs)  # warm: the sampling threads and buffers exist before the limit
    limit = _vm_size_bytes(pid) + 8_000_000  # 8 MB more address space than it has now
    subprocess.run(["prlimit", f"--pid={pid}", f"--as={limit}"], check=True, timeout=10)
    mood.candidates_spin.setValue(16)
    mood.bars_spin.setValue(32)
    with qtbot.waitSignal(jobs.errored, timeout=60_000) as failed:
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    message = failed.args[1]
    assert "memory" in message and "\n" not in message, message
    new_pid = _wait_ready(qtbot, jobs, pid)
    assert jobs._process is not None and new_pid != pid
    blocker = _suggest(qtbot, mood, jobs)
    assert len(blocker.args[1]) == 2


def test_a_worker_that_keeps_dying_is_given_up_with_a_message(rig, qtbot):
    doc, mood, panel, jobs, controller, *_ = rig()
    pid = _wait_ready(qtbot, jobs)
    for _ in range(4):  # MAX_RESTARTS = 3 within a minute
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: jobs.state == ERROR or (jobs._process is not None and jobs._process.pid != pid), timeout=10_000)
        if jobs.state == ERROR:
            break
        pid = jobs._process.pid
    qtbot.waitUntil(lambda: jobs.state == ERROR, timeout=10_000)
    assert "4 times within a minute" in jobs.message and "Suggestions are off" in jobs.message
    with qtbot.waitSignal(jobs.errored, timeout=5000):
        qtbot.mouseClick(mood.suggest_button, Qt.MouseButton.LeftButton)
    assert "Suggesting" not in panel.status.text()


@pytest.mark.parametrize("code, words", [
    (-9, "was killed (signal 9, SIGKILL)"),
    (-11, "was killed (signal 11, SIGSEGV)"),
    (75, "ran out of memory"),
    (1, "stopped unexpectedly (exit code 1)"),
])
def test_exit_status_in_words(code, words):
    assert describe_exit(code).startswith(words)


def test_a_start_queued_before_shutdown_starts_nothing(qtbot):
    """install_suggest queues ``jobs.start``; a window closed before the event loop ran it must not
    get a reader thread that later emits on the deleted jobs ("Signal source has been deleted")."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QWidget

    from composer_app.ui.generation_jobs import GenerationJobs

    owner = QWidget()
    jobs = GenerationJobs(owner)
    QTimer.singleShot(0, jobs.start)
    jobs.shutdown()
    qtbot.wait(20)  # the queued start runs now
    assert jobs._thread is None and jobs._process is None
    owner.deleteLater()


def test_deleting_the_owner_stops_the_worker_and_its_signals(qtbot):
    """The owner (the window) is deleted while the worker still loads: the worker is shut down first,
    and what it reports afterwards is dropped instead of raised on a deleted object."""
    import threading
    import shiboken6
    from PySide6.QtWidgets import QWidget

    from composer_app.ui.generation_jobs import GenerationJobs

    loading, release = threading.Event(), threading.Event()

    class SlowEngine:
        def suggest(self, request, cancel, on_candidate):  # pragma: no cover - never asked
            return []

    def load():
        loading.set()
        release.wait(10)
        return SlowEngine()

    owner = QWidget()
    jobs = GenerationJobs(owner, engine_loader=load)
    states = []
    jobs.model_state_changed.connect(lambda state, message: states.append(state))
    jobs.start()
    assert loading.wait(10)
    thread = jobs._thread
    errors = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        shiboken6.delete(owner)  # destroyed() -> shutdown() before the jobs object goes
        assert not shiboken6.isValid(jobs)
        release.set()  # the engine finishes loading and would report READY
        thread.join(10)
        assert not thread.is_alive()
    finally:
        threading.excepthook = previous_hook
    assert errors == []
