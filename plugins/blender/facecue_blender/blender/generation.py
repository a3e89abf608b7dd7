"""Generating a take on a server: in a worker thread for the UI, or directly for scripts."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GenerateRequest:
    server: str
    audio: Path
    photo: Path
    out: Path                        # take directory to write
    emotion: str = "neutral"
    intensity: float = 1.0
    fps: float = 30.0
    transcript: str = ""
    render: bool = True
    size: str = "512"
    token: str = ""
    timeout_s: float = 3600.0
    lip_scale: float = 1.0
    head_scale: float = 1.0
    gaze: bool = True
    backend: str = "procedural"      # cue model on the server: procedural or neural


def check(request: GenerateRequest) -> None:
    """Refuse bad input before any network work, with messages for the user."""
    for label, path in (("audio", request.audio), ("photo", request.photo)):
        if not str(path) or not Path(path).is_file():
            raise ValueError(f"{label} file '{path}' does not exist")
    if ":" not in request.server:
        raise ValueError(f"server address '{request.server}' should look like host:port")


def generate(request: GenerateRequest, on_progress=None, client_box: list | None = None) -> Path:
    """Generate a take and write it to ``request.out``; returns the take directory."""
    from facecue import take as take_io
    from facecue.client import FaceCueClient
    from facecue.config import Controls
    check(request)
    controls = Controls(lip_scale=request.lip_scale, head_scale=request.head_scale, gaze=request.gaze)
    with FaceCueClient(request.server, token=request.token or None, timeout_s=request.timeout_s) as client:
        if client_box is not None:
            client_box.append(client)
        take = client.generate(request.audio, request.photo, emotion=request.emotion, intensity=request.intensity,
                               fps=request.fps, transcript=request.transcript, render=request.render,
                               size=request.size, video=request.render, controls=controls,
                               backend=request.backend, on_progress=on_progress)
    return take_io.write(take, request.out, overwrite=True)


@dataclass
class BackgroundJob:
    """A generation running off Blender's main thread; the operator polls it."""
    request: GenerateRequest
    progress: float = 0.0
    result: Path | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    _clients: list = field(default_factory=list)

    def start(self) -> "BackgroundJob":
        threading.Thread(target=self._run, name="facecue-generate", daemon=True).start()
        return self

    def cancel(self) -> None:
        for client in self._clients:            # closing the channel ends the server's job too
            client.close()

    def _run(self) -> None:
        try:
            self.result = generate(self.request, self._report, self._clients)
        except Exception as err:                # shown to the user as a report, never raised in Blender
            self.error = user_message(err)
        finally:
            self.done.set()

    def _report(self, fraction: float) -> None:
        self.progress = fraction


def user_message(err: Exception) -> str:
    """What to tell the user; never raises, even when the bundled client cannot load."""
    try:
        from facecue.client import FaceCueClientError
    except ImportError as missing:
        return f"FaceCue's bundled client could not load ({missing}); reinstall the extension"
    if isinstance(err, FaceCueClientError):
        if err.code == "UNAVAILABLE":
            return f"FaceCue server not reachable ({err.message})"
        if err.code == "CANCELLED":
            return "generation cancelled"
        return f"server refused: {err.message} ({err.code})"
    return str(err)
