"""facecue batch: resumable, failure-tolerant, local worker processes and a real local Ray cluster."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facecue import batch, ray_batch, take as take_io
from facecue.errors import InvalidInput

from .conftest import speak


@pytest.fixture(scope="module")
def lines(tmp_path_factory, assets):
    folder = tmp_path_factory.mktemp("batch_inputs")
    for i, text in enumerate(["Good morning.", "See you soon.", "That was great.", "Keep going.",
                              "Look over there.", "Not again."]):
        speak(folder / f"line{i}.wav", text)
    (folder / "face.png").write_bytes((assets / "face.png").read_bytes())
    (folder / "blank.png").write_bytes((assets / "blank.png").read_bytes())
    return folder


def _manifest(folder, entries, name="jobs.jsonl"):
    path = folder / name
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    return path


def _entries(count, **extra):
    return [{"name": f"take{i}", "audio": f"line{i}.wav", "image": "face.png", "emotion": "happy", **extra}
            for i in range(count)]


def test_manifest_problems_name_the_line(lines):
    second = _entries(1)[0] | {"name": "second"}
    bad = [(second | {"emotion": "elated"}, "line 2: unknown emotion 'elated'"),
           (second | {"audio": "missing.wav"}, "line 2: audio file"),
           (second | {"name": "../x"}, "line 2: 'name' must be a plain folder name"),
           (_entries(1)[0], "line 2: the name 'take0' is used twice")]
    for entry, message in bad:
        path = _manifest(lines, [_entries(1)[0], entry], "bad.jsonl")
        with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
            batch.read_manifest(path)


def test_local_batch_resumes_and_reports_failures(lines, tmp_path):
    entries = _entries(3) + [{"name": "broken", "audio": "line3.wav", "image": "blank.png"}]
    manifest = _manifest(lines, entries)
    outcomes = batch.run(manifest, tmp_path, workers=2)
    assert sorted((o.name, o.status) for o in outcomes) == [("broken", "failed"), ("take0", "done"),
                                                            ("take1", "done"), ("take2", "done")]
    assert "no face found" in next(o.error for o in outcomes if o.name == "broken")
    report = [json.loads(line) for line in (tmp_path / batch.REPORT).read_text().splitlines()]
    assert {r["name"]: r["status"] for r in report}["broken"] == "failed"
    first = take_io.load(tmp_path / "take1")
    assert first.manifest["content_key"] and first.manifest["emotion"] == "happy"

    again = batch.run(manifest, tmp_path, workers=1)
    assert sorted(o.status for o in again) == ["failed", "skipped", "skipped", "skipped"]
    entries[1]["emotion"] = "sad"                          # only the changed take is made again
    changed = batch.run(_manifest(lines, entries), tmp_path, workers=1)
    assert {o.name: o.status for o in changed} == {"take0": "skipped", "take1": "done", "take2": "skipped",
                                                   "broken": "failed"}
    assert take_io.load(tmp_path / "take1").manifest["emotion"] == "sad"


def test_a_batch_killed_midway_completes_on_retry(lines, tmp_path):
    manifest = _manifest(lines, _entries(6), "six.jsonl")
    command = [sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out", str(tmp_path), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and not any((tmp_path / f"take{i}" / "manifest.json").exists() for i in range(6)):
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)                 # the runner and its workers, mid-batch
    process.wait()
    made_before = {p.name for p in tmp_path.glob("take*")}
    assert 0 < len(made_before) < 6
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == \
        [batch.REPORT] + [f"take{i}" for i in range(6)]
    assert not list(tmp_path.glob(".*"))                   # no half-written take left behind
    for i in range(6):
        take_io.load(tmp_path / f"take{i}")
    assert "skipped" in rerun.stdout and "6 takes" in rerun.stdout


def test_ray_workers_fill_the_cluster_once_each():
    assert ray_batch.ray_worker_count({"CPU": 8.0}, 0.0, 100) == 8
    assert ray_batch.ray_worker_count({"CPU": 8.0, "GPU": 2.0}, 0.5, 100) == 4          # GPU shares bound it
    assert ray_batch.ray_worker_count({"CPU": 8.0, "GPU": 1.0}, 0.3, 100) == 3
    assert ray_batch.ray_worker_count({"CPU": 8.0}, 0.0, 3) == 3                        # never more than takes
    assert ray_batch.ray_worker_count({}, 0.0, 5) == 1


def test_ray_batch_survives_a_killed_worker(lines, tmp_path):
    ray = pytest.importorskip("ray")
    import psutil
    manifest = _manifest(lines, _entries(4), "ray.jsonl")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        killed = []

        def kill_one_worker():
            deadline = time.time() + 120
            while time.time() < deadline and not killed:
                for proc in psutil.process_iter(["cmdline"]):
                    if "TakeWorker.make" in " ".join(proc.info["cmdline"] or []):     # a take in progress
                        proc.kill()
                        killed.append(proc.pid)
                        return
                time.sleep(0.1)
        import threading
        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        outcomes = batch.run(manifest, tmp_path, ray_address="local")
        killer.join()
    finally:
        ray.shutdown()
    assert killed, "no Ray worker was seen running a take"
    assert sorted(o.status for o in outcomes) == ["done"] * 4
    for i in range(4):
        assert take_io.load(tmp_path / f"take{i}").frame_count > 0


@pytest.fixture
def running_cluster(monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)     # joining may set it: not for later tests
    with _last_cluster_kept(), _ray_head() as address:
        yield address


@contextlib.contextmanager
def _ray_head(**env):
    """A Ray head started as a farm starts one (``ray start``), on a port of its own, and
    stopped with everything it started (not ``ray stop``, which stops every cluster here).
    It uses this machine's Ray token if one exists (a cluster of its own that ``ray.init`` once
    booted here leaves one in ~/.ray/auth_token)."""
    port = _free_port()
    head = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--num-cpus=2",
                             f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                             "--disable-usage-stats"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, **env})
    try:
        assert _until(lambda: _listening(port) and _last_cluster().endswith(f":{port}"), 120), \
            "the Ray head did not start"
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGINT)        # as Ctrl-C: stops in about a second (SIGTERM: 33 s)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


LAST_CLUSTER = Path("/tmp/ray/ray_current_cluster")


def _last_cluster() -> str:
    """The address ``ray start`` left for this machine's next ``ray.init``."""
    try:
        return LAST_CLUSTER.read_text().strip()
    except OSError:
        return ""


@contextlib.contextmanager
def _last_cluster_kept():
    """The machine's record of its last cluster as it was before (a head stopped by a signal
    leaves its address there, as ``ray stop`` does not)."""
    before = _last_cluster()
    try:
        yield
    finally:
        if before:
            LAST_CLUSTER.write_text(before)
        else:
            LAST_CLUSTER.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _warm_workers(ray) -> dict[str, int]:
    """The cluster's FaceCue workers: name → takes made."""
    named = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["namespace"] == ray_batch.NAMESPACE]
    return {name: ray.get(ray.get_actor(name, namespace=ray_batch.NAMESPACE).made.remote()) for name in named}


def _until(condition, seconds: float = 60.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_ray_workers_stay_loaded_for_the_next_batch_then_leave(lines, tmp_path, running_cluster, monkeypatch):
    ray = pytest.importorskip("ray")
    first = batch.run(_manifest(lines, _entries(2), "first.jsonl"), tmp_path / "first", ray_address=running_cluster,
                      keep_warm_s=120)
    second = batch.run(_manifest(lines, _entries(2, emotion="sad"), "second.jsonl"), tmp_path / "second",
                       ray_address=running_cluster, keep_warm_s=120)
    assert [o.status for o in first + second] == ["done"] * 4
    ray_batch.join(running_cluster)
    try:
        made = _warm_workers(ray)
        assert len(made) == 2 and sum(made.values()) == 4        # the second batch ran in the first's workers

        monkeypatch.setattr(ray_batch, "code_fingerprint", lambda: "f" * 64)     # as after an upgrade
        upgraded = batch.run(_manifest(lines, _entries(2, emotion="angry"), "third.jsonl"), tmp_path / "third",
                             ray_address=running_cluster, keep_warm_s=0.5)
        assert [o.status for o in upgraded] == ["done"] * 2
        assert _until(lambda: not set(made) & set(_warm_workers(ray))), "the old code's workers stayed"
        assert _until(lambda: not _warm_workers(ray) and ray.available_resources().get("CPU") == 2.0), \
            "idle workers held the cluster's CPUs"
    finally:
        ray.shutdown()


def test_ray_joins_a_cluster_secured_by_this_machines_token_and_names_a_missing_one(lines, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    token = tmp_path / "auth_token"
    token.write_text(os.urandom(32).hex())
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))    # this machine's token, as ~/.ray/auth_token is
    manifest = _manifest(lines, _entries(1), "secured.jsonl")
    with _last_cluster_kept(), _ray_head(RAY_AUTH_MODE="token") as address:
        # A driver without the token is refused with one line that says what is missing.
        bare = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")} | {"HOME": str(tmp_path)}
        run = subprocess.run([sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out",
                              str(tmp_path / "refused"), "--ray", address], env=bare, capture_output=True, text=True,
                             timeout=180)
        last = run.stderr.strip().splitlines()[-1]
        assert run.returncode == 2 and "wants its token" in last and "RAY_AUTH_MODE=token" in last, run.stderr
        outcomes = batch.run(manifest, tmp_path / "made", ray_address=address, keep_warm_s=0)
    assert [o.status for o in outcomes] == ["done"]


def test_ray_refuses_a_cluster_that_is_not_there_and_local_boots_its_own(lines, tmp_path):
    pytest.importorskip("ray")
    manifest = _manifest(lines, _entries(1), "one.jsonl")
    with _last_cluster_kept():
        with _ray_head():
            pass                              # started and stopped: this machine's last cluster is gone
        for address in ("auto", f"127.0.0.1:{_free_port()}"):
            run = subprocess.run([sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out",
                                  str(tmp_path / "x"), "--ray", address], capture_output=True, text=True, timeout=120)
            assert run.returncode == 2 and "no Ray cluster" in run.stderr.strip().splitlines()[-1], run.stderr
        outcomes = batch.run(manifest, tmp_path / "local", ray_address="local")  # did not join the dead one
    assert [o.status for o in outcomes] == ["done"]
