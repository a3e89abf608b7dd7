"""The server's durable job store: an SQLite index and content-addressed take directories.

    <root>/jobs.sqlite                    jobs (id, state, …, content key) and takes (key, size, last use)
    <root>/takes/<key[:2]>/<key>/         one finished take per content key, shared by every job asking for it

Jobs survive a restart (one running when the server stopped is marked failed). A request
whose content key is already stored reuses that take. With a quota, the least recently used
takes are evicted once the store grows past it; their jobs then answer NOT_FOUND.
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import take as take_io
from .errors import NotFound

RUNNING, DONE, FAILED, CANCELLED = "RUNNING", "DONE", "FAILED", "CANCELLED"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, state TEXT NOT NULL, message TEXT NOT NULL,
    frame_count INTEGER NOT NULL, fps REAL NOT NULL, emotion TEXT NOT NULL, created_unix REAL NOT NULL,
    content_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_unix);
CREATE TABLE IF NOT EXISTS takes (content_key TEXT PRIMARY KEY, bytes INTEGER NOT NULL, frame_count INTEGER NOT NULL,
    created_unix REAL NOT NULL, used_unix REAL NOT NULL);
"""


@dataclass
class JobRecord:
    job_id: str
    state: str = RUNNING
    message: str = ""
    frame_count: int = 0
    fps: float = 0.0
    emotion: str = ""
    created_unix: float = field(default_factory=time.time)
    content_key: str = ""


class TakeStore:
    def __init__(self, root: str | Path, max_bytes: int | None = None):
        self.root = Path(root)
        (self.root / "takes").mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._cancel: dict[str, threading.Event] = {}
        self._db = sqlite3.connect(self.root / "jobs.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("UPDATE jobs SET state = ?, message = ? WHERE state = ?",
                         (FAILED, "interrupted by a server restart", RUNNING))
        self.swept = self._sweep()

    def _sweep(self) -> int:
        """Remove what a killed server left half-written (staging and retired take folders),
        and forget takes whose folder is gone; they would count against the quota forever."""
        stale = [p for pattern in (".*.partial-*", ".*.old-*") for p in (self.root / "takes").glob(f"*/{pattern}")]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        keys = [row[0] for row in self._db.execute("SELECT content_key FROM takes").fetchall()]
        gone = [key for key in keys if not (self.take_path(key) / take_io.MANIFEST).is_file()]
        self._db.executemany("DELETE FROM takes WHERE content_key = ?", [(key,) for key in gone])
        return len(stale) + len(gone)

    # -- jobs -------------------------------------------------------------------------------
    def create(self, fps: float, emotion: str, content_key: str = "") -> JobRecord:
        record = JobRecord(job_id=uuid.uuid4().hex[:16], fps=fps, emotion=emotion, content_key=content_key)
        with self._lock:
            self._db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (record.job_id, record.state, record.message, record.frame_count, record.fps,
                              record.emotion, record.created_unix, record.content_key))
        return record

    def cancel_event(self, job_id: str) -> threading.Event:
        """Set to stop a running job; held only while the job runs (``forget_cancel``)."""
        with self._lock:
            return self._cancel.setdefault(job_id, threading.Event())

    def cancel(self, job_id: str) -> None:
        with self._lock:
            event = self._cancel.get(job_id)
        if event is not None:
            event.set()

    def forget_cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancel.pop(job_id, None)

    def get(self, job_id: str) -> JobRecord:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job '{job_id}' in this server's store")
        return JobRecord(*row)

    def list(self, limit: int = 0) -> list[JobRecord]:
        query = "SELECT * FROM jobs ORDER BY created_unix DESC" + (" LIMIT ?" if limit else "")
        with self._lock:
            rows = self._db.execute(query, (limit,) if limit else ()).fetchall()
        return [JobRecord(*row) for row in rows]

    def fail(self, record: JobRecord, state: str, message: str) -> None:
        record.state, record.message = state, message
        self._update(record)

    def _update(self, record: JobRecord) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET state = ?, message = ?, frame_count = ?, content_key = ? WHERE job_id = ?",
                             (record.state, record.message, record.frame_count, record.content_key, record.job_id))

    # -- takes ------------------------------------------------------------------------------
    def take_path(self, content_key: str) -> Path:
        return self.root / "takes" / content_key[:2] / content_key

    def cached(self, content_key: str) -> take_io.Take | None:
        """The stored take for this content key, if there is a complete one."""
        if not content_key:
            return None
        with self._lock:
            row = self._db.execute("SELECT 1 FROM takes WHERE content_key = ?", (content_key,)).fetchone()
        if row is None or not (self.take_path(content_key) / take_io.MANIFEST).is_file():
            return None
        self._touch(content_key)
        return take_io.load(self.take_path(content_key))

    def finish(self, record: JobRecord, take: take_io.Take) -> take_io.Take:
        """Write the take (rendering its frames, if any) under its content key; returns it as stored."""
        key = record.content_key or record.job_id
        path = take_io.write(take, self.take_path(key), overwrite=True)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        now = time.time()
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO takes VALUES (?, ?, ?, ?, ?)", (key, size, take.frame_count, now, now))
        record.content_key = key
        self.done(record, take.frame_count, "done")
        self._evict(keep=key)
        return take_io.load(path)

    def done(self, record: JobRecord, frame_count: int, message: str) -> None:
        record.state, record.frame_count, record.message = DONE, frame_count, message
        self._update(record)

    def load(self, job_id: str) -> take_io.Take:
        record = self.get(job_id)
        if record.state != DONE:
            raise NotFound(f"job '{job_id}' has no finished take (state {record.state})")
        path = self.take_path(record.content_key)
        if not (path / take_io.MANIFEST).is_file():
            raise NotFound(f"the take of job '{job_id}' was evicted from the store (its quota is full)")
        self._touch(record.content_key)
        return take_io.load(path)

    def _touch(self, content_key: str) -> None:
        with self._lock:
            self._db.execute("UPDATE takes SET used_unix = ? WHERE content_key = ?", (time.time(), content_key))

    def _evict(self, keep: str) -> None:
        """Remove least recently used takes until the store fits its quota (never ``keep``)."""
        if self.max_bytes is None:
            return
        with self._lock:
            rows = self._db.execute("SELECT content_key, bytes FROM takes ORDER BY used_unix").fetchall()
            total = sum(size for _, size in rows)
            for key, size in rows:
                if total <= self.max_bytes:
                    break
                if key == keep:
                    continue
                shutil.rmtree(self.take_path(key), ignore_errors=True)
                self._db.execute("DELETE FROM takes WHERE content_key = ?", (key,))
                total -= size

    def usage_bytes(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(bytes), 0) FROM takes").fetchone()[0])
