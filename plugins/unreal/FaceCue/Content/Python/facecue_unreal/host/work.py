"""Network work off the game thread; results applied on a Slate tick; imports under a
ScopedSlowTask with progress and cancel."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import unreal


class Background:
    """Run ``work`` on a thread; call ``done(result, error)`` on the game thread afterwards."""

    def __init__(self, work: Callable[[], object], done: Callable[[object, Exception | None], None]):
        self._work, self._done = work, done
        self._result, self._error = None, None
        self._finished = threading.Event()
        self._handle = None

    def start(self) -> "Background":
        threading.Thread(target=self._run, name="facecue", daemon=True).start()
        self._handle = unreal.register_slate_post_tick_callback(self._tick)
        return self

    def _run(self) -> None:
        try:
            self._result = self._work()
        except Exception as err:                 # reported to the user on the game thread
            self._error = err
        finally:
            self._finished.set()

    def _tick(self, delta_seconds: float) -> None:
        if not self._finished.is_set():
            return
        unreal.unregister_slate_post_tick_callback(self._handle)
        self._done(self._result, self._error)


def generate_take(server: str, token: str, audio: str, photo: str, out: Path, *, emotion: str, intensity: float,
                  fps: float, render: bool, size: str = "512", backend: str = "procedural") -> Path:
    """Generate on a FaceCue server and write the take (runs on the background thread)."""
    from facecue import take as take_io
    from facecue.client import FaceCueClient
    with FaceCueClient(server, token=token or None, timeout_s=3600) as client:
        take = client.generate(audio, photo, emotion=emotion, intensity=intensity, fps=fps, render=render, size=size,
                               backend=backend)
    return take_io.write(take, out, overwrite=True)


def with_progress(label: str, steps: int, work: Callable[[Callable[[str], None]], object]):
    """Run ``work(step)`` inside a cancellable ScopedSlowTask of ``steps`` steps."""
    with unreal.ScopedSlowTask(steps, label) as task:
        task.make_dialog(True)

        def step(description: str) -> None:
            if task.should_cancel():
                raise KeyboardInterrupt("cancelled")
            task.enter_progress_frame(1, f"{label}: {description}")
        return work(step)


def user_message(err: Exception) -> str:
    from facecue.client import FaceCueClientError
    if isinstance(err, FaceCueClientError):
        if err.code == "UNAVAILABLE":
            return f"FaceCue server not reachable ({err.message})"
        return f"server refused: {err.message} ({err.code})"
    return str(err)
