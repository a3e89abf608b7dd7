"""Batches on Ray: long-lived workers (actors) that load the models once and make take after take.

On a cluster that is already running (a farm's case), the workers are named for the code
they run and outlive the batch by ``keep_warm_s`` with their models loaded, so the next
batch starts at once instead of loading them again in every worker; a worker ends itself
after that long without a take. A cluster the run boots (``local``) goes with the run.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import threading
import time
from functools import lru_cache
from pathlib import Path

from .batch import KEEP_WARM_S, BatchJob, Outcome, run_take
from .cores import share_cores
from .errors import Unavailable

RAY_RETRIES = 3
CONNECT_TIMEOUT_S = 5.0
NAMESPACE = "facecue"
WORKER_PREFIX = "take-worker-"


def run_ray(jobs: list[BatchJob], out_dir: Path, address: str, on_outcome, gpus_per_take: float = 0.0,
            keep_warm_s: float = KEEP_WARM_S) -> None:
    """The takes on Ray: one worker per free CPU, or per GPU share. A worker that dies is
    restarted and its take retried, up to ``RAY_RETRIES`` times (a task per take would load
    the models again wherever Ray starts a fresh worker, and on GPUs Ray does so for every task)."""
    import ray
    connecting = not ray.is_initialized()
    if connecting:
        if address != "local":
            check_answers(address)
        join(address)
    try:
        warm = address != "local"
        maker = ray.remote(num_cpus=1, num_gpus=gpus_per_take, max_restarts=RAY_RETRIES,
                           max_task_retries=RAY_RETRIES)(TakeWorker)
        count = ray_worker_count(ray.cluster_resources(), gpus_per_take, len(jobs))
        if warm:
            _release_other_code(ray)
            workers = [_named(maker, gpus_per_take, i, keep_warm_s) for i in range(count)]
        else:
            workers = [maker.remote() for _ in range(count)]
        _run_on(ray, workers, maker, jobs, out_dir, on_outcome)
        if warm:        # delivered before this driver lets go of the cluster
            ray.wait([worker.linger.remote(keep_warm_s) for worker in workers], num_returns=len(workers),
                     timeout=CONNECT_TIMEOUT_S)
    finally:
        if connecting:
            ray.shutdown()      # now, not at interpreter exit, where it waits on far more


def check_answers(address: str) -> None:
    """Refuse, at once, a cluster that is not there: Ray itself waits on a dead address without
    end (and ``auto`` finds the last cluster started here, running or not)."""
    from ray._private.services import canonicalize_bootstrap_address
    try:
        resolved = canonicalize_bootstrap_address(address.removeprefix("ray://"))
    except (ConnectionError, ValueError) as err:
        raise Unavailable(f"no Ray cluster at '{address}': {err}") from None
    if resolved is None:
        raise Unavailable(f"no Ray cluster is running here for --ray {address}; start one "
                          "(ray start --head) or give its address")
    host, _, port = resolved.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError):
        where = f"{resolved} (the last cluster started on this machine, which has stopped)" \
            if address == "auto" else address
        raise Unavailable(f"no Ray cluster answers at {where}; start one (ray start --head) "
                          "or give the address of one that runs") from None


def join(address: str) -> None:
    """Connect this process to the cluster at ``address``, or boot one of its own (``local``)."""
    import ray
    from ray._raylet import AuthenticationTokenLoader
    AuthenticationTokenLoader.instance().reset_cache()      # the token as it is now, not as first read
    if address == "local":
        # A cluster of its own even when one runs here, or one ran and left its address
        # behind (``None`` would join that one, or wait on it for ever).
        ray.init(address="local", log_to_driver=False, include_dashboard=False)
        return
    _use_this_machines_token(address)
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError) as err:
        if _refused_for_its_token(err):
            raise Unavailable(f"the Ray cluster at {address} wants its token: set RAY_AUTH_MODE=token and "
                              "give the token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)") from None
        raise


def _use_this_machines_token(address: str) -> None:
    """Send this machine's Ray token to a cluster on this machine.

    A cluster ``ray start`` brings up here uses the machine's token once one exists (``ray.init``
    of a cluster of its own saves one in ~/.ray/auth_token), and Ray then refuses drivers that
    do not send it. Ray sends it by itself only to a cluster it finds (``auto``), never to an
    address: a token is a secret, and an address may be another machine's. An address of this
    machine is the same cluster ``auto`` would find, so it gets the token too; for other
    machines RAY_AUTH_MODE=token stays the user's choice. (Private Ray calls: pinned Ray.)"""
    if os.environ.get("RAY_AUTH_MODE") is not None or not _on_this_machine(address):
        return
    from ray._raylet import AuthenticationTokenLoader, Config
    if AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True):
        os.environ["RAY_AUTH_MODE"] = "token"
        Config.initialize("")           # Ray's cached settings read the mode again


def _on_this_machine(address: str) -> bool:
    import ray
    host = address.removeprefix("ray://").rpartition(":")[0].strip("[]") or address
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False
    try:
        own = {ray.util.get_node_ip_address()}
    except OSError:                     # no network at all: only loopback is this machine
        own = set()
    return any(ipaddress.ip_address(ip.split("%")[0]).is_loopback or ip in own for ip in found)


def _refused_for_its_token(err: BaseException) -> bool:
    """Whether ``ray.init`` failed because the cluster wants a token this driver did not send."""
    from ray.exceptions import AuthenticationError
    while err is not None:
        if isinstance(err, AuthenticationError) or "InvalidAuthToken" in str(err):
            return True
        err = err.__cause__ or err.__context__
    return False


def _run_on(ray, workers: list, maker, jobs: list[BatchJob], out_dir: Path, on_outcome) -> None:
    """Each job to the next free worker. A take whose worker is lost is tried once more (a
    warm worker may have ended itself just as the batch began); a second loss fails it."""
    idle, queue, running, lost = list(workers), list(jobs), {}, set()
    while queue or running:
        while idle and queue:
            worker, job = idle.pop(), queue.pop(0)
            running[worker.make.remote(job, str(out_dir))] = (worker, job)
        ready, _ = ray.wait(list(running), num_returns=1)
        worker, job = running.pop(ready[0])
        try:
            outcome = ray.get(ready[0])
            idle.append(worker)
        except ray.exceptions.RayError as err:          # restarts spent, or it ended: this worker is gone
            if job.name not in lost:
                lost.add(job.name)
                queue.insert(0, job)
            else:
                on_outcome(Outcome(job.name, "failed", error=f"Ray worker lost: {type(err).__name__}"))
            if not running and not idle and queue:      # none left to take the rest: start another
                idle.append(maker.remote())
            continue
        on_outcome(outcome)


def _named(maker, gpus_per_take: float, index: int, keep_warm_s: float):
    """The cluster's warm worker of this code and GPU share, started if it is not there."""
    name = f"{_this_code_prefix()}gpu{gpus_per_take:g}-{index}"
    return maker.options(name=name, namespace=NAMESPACE, lifetime="detached",
                         get_if_exists=True).remote(keep_warm_s)


def _release_other_code(ray) -> None:
    """Warm workers of other code (an earlier version) end when idle instead of holding CPUs."""
    mine = _this_code_prefix()
    for actor in ray.util.list_named_actors(all_namespaces=True):
        if actor["namespace"] == NAMESPACE and actor["name"].startswith(WORKER_PREFIX) \
                and not actor["name"].startswith(mine):
            try:
                ray.get_actor(actor["name"], namespace=NAMESPACE).linger.remote(0.0)
            except ValueError:                           # it ended meanwhile
                pass


def _this_code_prefix() -> str:
    """The start of the names of the workers that run this code."""
    return f"{WORKER_PREFIX}{code_fingerprint()[:16]}-"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 of the package's files (code, model weights, data): a worker serves only the
    code that asked for it."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class TakeWorker:
    """A Ray actor that makes takes in its own process, its pipeline loaded once. Given
    ``keep_warm_s`` it ends itself once that long has passed without a take (``linger``
    changes the time)."""

    def __init__(self, keep_warm_s: float | None = None):
        share_cores()
        self.takes_made = 0
        self._busy, self._reaper = False, None
        if keep_warm_s is not None:
            self.linger(keep_warm_s)

    def make(self, job: BatchJob, out_dir: str) -> Outcome:
        self._busy = True
        try:
            return run_take(job, out_dir)
        finally:
            self.takes_made += 1
            self._busy, self._last_used = False, time.monotonic()

    def made(self) -> int:
        return self.takes_made

    def linger(self, seconds: float) -> None:
        """End once ``seconds`` pass without a take (counted from now)."""
        self._keep_warm_s, self._last_used = seconds, time.monotonic()
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._end_when_idle, daemon=True)
            self._reaper.start()

    def _end_when_idle(self) -> None:
        import ray
        while self._busy or time.monotonic() - self._last_used < self._keep_warm_s:
            time.sleep(0.25)
        # Killed by the cluster: a task this worker sent itself (``__ray_terminate__``) would be
        # owned by it, and its exit waits on what it owns.
        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)


def ray_worker_count(resources: dict, gpus_per_take: float, takes: int) -> int:
    """Workers the cluster can hold at once: one per CPU, and per GPU share when asked."""
    count = int(resources.get("CPU", 1))
    if gpus_per_take > 0:
        count = min(count, int(resources.get("GPU", 0) / gpus_per_take + 1e-9))
    return max(1, min(count, takes))
