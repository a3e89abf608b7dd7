"""Render-farm batches: a JSON-lines manifest of takes, run by local worker processes or on Ray.

Manifest, one take per line (paths relative to the manifest's folder)::

    {"name": "ana_line01", "audio": "vo/line01.wav", "image": "ref/ana.jpg", "emotion": "happy",
     "intensity": 0.8, "fps": 24, "seed": 3, "transcript": "…", "backend": "neural",
     "render": {"size": "512", "video": true}}

Each take is written to ``OUT/<name>`` atomically, with its content key (inputs + parameters +
model versions) in its manifest. Running the batch again skips takes whose key matches, so an
interrupted batch resumes where it stopped, and changed parameters remake only what changed.
A take is skipped only when its files are all there as its manifest lists them (sizes and
sha256). A failing take never stops the others: its error goes to ``OUT/batch_report.jsonl``.
One run owns an output folder at a time (``OUT/.facecue-batch.lock``); a second is refused.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from . import take as take_io
from .config import RenderOptions, RenderSize, TakeRequest
from .cores import share_cores
from .errors import CorruptTake, FolderBusy, InvalidInput

REPORT = "batch_report.jsonl"
LOCK = ".facecue-batch.lock"
RESERVED_NAMES = {REPORT, LOCK}
MAX_NAME_CHARS = 200
FIELDS = {"name": "text", "audio": "text", "image": "text", "emotion": "text", "intensity": "number", "fps": "number",
          "seed": "whole number", "transcript": "text", "backend": "text", "render": "object"}
_TYPES = {"text": (str,), "number": (int, float), "whole number": (int,), "object": (dict, bool)}
_pipeline = None                     # one per worker process, loaded on its first take
KEEP_WARM_S = 60.0                   # Ray workers stay loaded this long after a batch, on a running cluster


@dataclass(frozen=True)
class BatchJob:
    name: str
    request: TakeRequest


@dataclass
class Outcome:
    name: str
    status: str                      # done | skipped | failed
    seconds: float = 0.0
    frames: int = 0
    error: str = ""


def read_manifest(path: str | Path) -> list[BatchJob]:
    """Every line checked before anything runs; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"batch manifest '{path}' does not exist")
    jobs, names = [], set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name} line {number}"
        try:
            entry = json.loads(line)
        except ValueError as err:
            raise InvalidInput(f"{where} is not valid JSON ({err})") from None
        _check_entry(entry, where)
        name = entry.get("name", "")
        if not name or "/" in name or "\\" in name or "\0" in name or name.startswith(".") \
                or len(name) > MAX_NAME_CHARS:
            raise InvalidInput(f"{where}: 'name' must be a plain folder name of at most {MAX_NAME_CHARS} characters")
        if name in RESERVED_NAMES:
            raise InvalidInput(f"{where}: the name '{name}' is reserved for the batch's own files")
        if name in names:
            raise InvalidInput(f"{where}: the name '{name}' is used twice")
        names.add(name)
        files = {}
        for key in ("audio", "image"):
            if not entry.get(key):
                raise InvalidInput(f"{where}: '{key}' is missing")
            files[key] = (path.parent / entry[key]).resolve()
        render = entry.get("render")
        options = None
        try:
            if render:
                render = render if isinstance(render, dict) else {}
                options = RenderOptions(size=RenderSize.parse(render.get("size", "512")),
                                        image_format=str(render.get("image_format", "png")),
                                        video=bool(render.get("video", True)))
            request = TakeRequest(audio=files["audio"], image=files["image"], emotion=entry.get("emotion", "neutral"),
                                  intensity=float(entry.get("intensity", 1.0)), fps=float(entry.get("fps", 30.0)),
                                  seed=entry.get("seed", 0), transcript=entry.get("transcript"), render=options,
                                  backend=entry.get("backend", "procedural"))
            request.check()
        except InvalidInput as err:
            raise InvalidInput(f"{where}: {err}") from None
        jobs.append(BatchJob(name, request))
    if not jobs:
        raise InvalidInput(f"batch manifest '{path}' lists no takes")
    return jobs


def _check_entry(entry, where: str) -> None:
    """One manifest line: a JSON object whose known fields have the right types."""
    if not isinstance(entry, dict):
        raise InvalidInput(f"{where}: each line must be a JSON object {{\"name\": …, \"audio\": …, …}}, "
                           f"not {type(entry).__name__ if entry is not None else 'null'}")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"{where}: unknown field '{unknown[0]}' (known: {', '.join(FIELDS)})")
    for field, kind in FIELDS.items():
        value = entry.get(field)
        if value is None:
            continue
        types = _TYPES[kind]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types and kind != "object"):
            raise InvalidInput(f"{where}: '{field}' must be {'an' if kind[0] in 'aeio' else 'a'} {kind}, "
                               f"not {json.dumps(value)[:40]}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{where}: '{field}' must be a finite number")


def already_made(job: BatchJob, out_dir: Path, key: str) -> bool:
    """The take is there, made from the same key, and every file it lists is intact."""
    folder = out_dir / job.name
    try:
        if json.loads((folder / "manifest.json").read_text()).get("content_key") != key:
            return False
        take_io.verify(folder)
        return True
    except (OSError, ValueError, CorruptTake):
        return False


def run_take(job: BatchJob, out_dir: str) -> Outcome:
    """Make one take (in whichever process or Ray worker runs this); never raises."""
    global _pipeline
    from .errors import FaceCueError
    start = time.perf_counter()
    try:
        if _pipeline is None:
            from .pipeline import Pipeline
            _pipeline = Pipeline()
        from .identity import take_key
        key = take_key(job.request, _pipeline)
        if already_made(job, Path(out_dir), key):
            return Outcome(job.name, "skipped")
        take = _pipeline.run(job.request)
        take.manifest["content_key"] = key
        take_io.write(take, Path(out_dir) / job.name, overwrite=True)
        return Outcome(job.name, "done", time.perf_counter() - start, take.frame_count)
    except FaceCueError as err:
        return Outcome(job.name, "failed", time.perf_counter() - start, error=str(err))
    except Exception as err:                     # a bug must not take the batch down with it
        return Outcome(job.name, "failed", time.perf_counter() - start, error=f"internal error: {err!r}")


def clear_leftovers(out_dir: Path) -> int:
    """Remove half-written takes a killed run left behind (hidden staging folders)."""
    stale = [p for p in out_dir.glob(".*.partial-*") if p.is_dir()] + [p for p in out_dir.glob(".*.old-*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def run_local(jobs: list[BatchJob], out_dir: Path, workers: int, on_outcome) -> None:
    if workers <= 1:
        for job in jobs:
            on_outcome(run_take(job, str(out_dir)))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    context = multiprocessing.get_context("spawn")       # MediaPipe and torch do not survive fork
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=share_cores) as pool:
        futures = [pool.submit(run_take, job, str(out_dir)) for job in jobs]
        for future in as_completed(futures):
            on_outcome(future.result())


@contextmanager
def owned(out_dir: Path):
    """Hold the output folder for this run: a second run on it is refused while this one lives."""
    path = out_dir / LOCK
    while True:
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise FolderBusy(f"output folder '{out_dir}' is in use by another facecue batch ({holder}); "
                             "wait for it to finish or choose another --out") from None
        try:
            same = os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:                 # not a lock file its last owner unlinked while we waited for it
            break
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    try:
        yield
    finally:
        os.unlink(path)
        handle.close()


def run(manifest: str | Path, out_dir: str | Path, *, workers: int = 1, ray_address: str | None = None,
        gpus_per_take: float = 0.0, keep_warm_s: float = KEEP_WARM_S, progress=None) -> list[Outcome]:
    """Every take of the manifest; ``keep_warm_s``: how long Ray workers stay loaded after the
    batch on a running cluster."""
    jobs = read_manifest(manifest)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with owned(out_dir):
        clear_leftovers(out_dir)          # safe: no other run can be writing here
        return _run_owned(jobs, out_dir, workers, ray_address, gpus_per_take, keep_warm_s, progress)


def _run_owned(jobs, out_dir: Path, workers: int, ray_address: str | None, gpus_per_take: float,
               keep_warm_s: float, progress) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        with open(out_dir / REPORT, "a") as report:
            report.write(json.dumps({**asdict(outcome), "finished_unix": time.time()}) + "\n")
        if progress:
            progress(outcome, len(outcomes), len(jobs))

    if ray_address:
        from .ray_batch import run_ray
        run_ray(jobs, out_dir, ray_address, record, gpus_per_take, keep_warm_s)
    else:
        run_local(jobs, out_dir, workers, record)
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> str:
    made = [o for o in outcomes if o.status == "done"]
    lines = [f"{'status':<8} {'takes':>6} {'frames':>8}"]
    for status in ("done", "skipped", "failed"):
        group = [o for o in outcomes if o.status == status]
        lines.append(f"{status:<8} {len(group):>6} {sum(o.frames for o in group):>8}")
    rate = len(made) / seconds * 60 if seconds > 0 else 0.0
    lines.append(f"{len(outcomes)} takes in {seconds:.1f} s ({rate:.1f} takes/min made)")
    lines += [f"failed: {o.name}: {o.error}" for o in outcomes if o.status == "failed"]
    return "\n".join(lines)
