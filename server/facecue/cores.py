"""Processes whose work runs beside other work on the same cores."""
from __future__ import annotations

import os


def share_cores() -> None:
    """Call before the models load in such a process (a batch worker, a Ray worker, a server
    making several takes at once): idle OpenMP threads (the recogniser's two, torch's) sleep
    instead of spinning. Spinning, two batch workers on two cores starved each other (16 takes
    in 24–42 s against 16–17 s now), and a server's two running jobs made 40 takes in 19–20 s
    against 15–16 s now. Thread counts stay as they are, so the arithmetic, and every take, is
    the same. A process alone on the machine keeps spinning threads: passive waiting made the
    recogniser 12 % slower there."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
