"""The server's take store: one directory per job, a job.json beside its take.

Jobs survive a restart (the directory is rescanned). Writes of job.json are atomic.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import take as take_io
from .errors import NotFound

RUNNING, DONE, FAILED, CANCELLED = "RUNNING", "DONE", "FAILED", "CANCELLED"


@dataclass
class JobRecord:
    job_id: str
    state: str = RUNNING
    message: str = ""
    frame_count: int = 0
    fps: float = 0.0
    emotion: str = ""
    created_unix: float = field(default_factory=time.time)


class TakeStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._jobs: dict[str, JobRecord] = {}
        self._cancel: dict[str, threading.Event] = {}
        for record_file in self.root.glob("*/job.json"):
            try:
                record = JobRecord(**json.loads(record_file.read_text()))
            except (OSError, ValueError, TypeError):
                continue
            if record.state == RUNNING:      # the server stopped while it ran
                record.state, record.message = FAILED, "interrupted by a server restart"
                self._save(record)
            self._jobs[record.job_id] = record

    def create(self, fps: float, emotion: str) -> JobRecord:
        record = JobRecord(job_id=uuid.uuid4().hex[:16], fps=fps, emotion=emotion)
        with self._lock:
            self._jobs[record.job_id] = record
            self._cancel[record.job_id] = threading.Event()
        self._save(record)
        return record

    def cancel_event(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._cancel.setdefault(job_id, threading.Event())

    def finish(self, record: JobRecord, take: take_io.Take) -> take_io.Take:
        """Write the take (rendering its frames, if any) and return it as stored."""
        path = take_io.write(take, self.take_dir(record.job_id), overwrite=True)
        record.state, record.frame_count, record.message = DONE, take.frame_count, "done"
        self._save(record)
        return take_io.load(path)

    def fail(self, record: JobRecord, state: str, message: str) -> None:
        record.state, record.message = state, message
        self._save(record)

    def get(self, job_id: str) -> JobRecord:
        with self._lock:
            record = self._jobs.get(job_id)
        if record is None:
            raise NotFound(f"no job '{job_id}' in this server's store")
        return record

    def list(self, limit: int = 0) -> list[JobRecord]:
        with self._lock:
            records = sorted(self._jobs.values(), key=lambda r: r.created_unix, reverse=True)
        return records[:limit] if limit else records

    def take_dir(self, job_id: str) -> Path:
        return self.root / job_id / "take"

    def load(self, job_id: str) -> take_io.Take:
        record = self.get(job_id)
        if record.state != DONE:
            raise NotFound(f"job '{job_id}' has no finished take (state {record.state})")
        return take_io.load(self.take_dir(job_id))

    def _save(self, record: JobRecord) -> None:
        folder = self.root / record.job_id
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / f".job.json.{uuid.uuid4().hex[:6]}"
        staging.write_text(json.dumps(asdict(record)))
        os.replace(staging, folder / "job.json")
