"""A cue backend that needs no weights: phones → visemes, FACS expressions, blinks,
speech-coupled head motion and a Markov gaze process. Deterministic for a seed."""
from .backend import ProceduralBackend

__all__ = ["ProceduralBackend"]
