"""Same request, same take: in one process, across processes and under concurrency."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from facecue.audio import load_audio
from facecue.config import TakeRequest
from facecue.evaluation import devset
from facecue.phonemes import PhoneLoop, recognise

CLIPS = ("goforward", "something", "cards1", "beckett", "chan3")


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


@pytest.fixture(scope="module")
def recordings(root):
    return [load_audio(devset.clip_path(root, n)) for n in CLIPS]


def test_the_phone_loop_does_not_remember_other_takes(recordings):
    alone = [recognise(a) for a in recordings]
    shared = PhoneLoop()                         # what a process-wide decoder used to do
    remembered = [shared.recognise(a) for a in recordings[::-1]][::-1]
    assert any(a.phones != b.phones or not np.array_equal(a.start_s, b.start_s)
               for a, b in zip(alone, remembered)), "pocketsphinx no longer carries state: simplify PhoneLoop"
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(recognise, recordings * 2))
    for a, b in zip(alone * 2, together):
        assert a.phones == b.phones and np.array_equal(a.start_s, b.start_s) and np.array_equal(a.end_s, b.end_s)


def test_concurrent_takes_equal_takes_made_alone(pipeline, root):
    faces = [devset.face_path(root, n) for n in ("closed", "teeth")]
    requests = [TakeRequest(audio=devset.clip_path(root, clip), image=face, emotion="happy", seed=3, fps=30.0)
                for clip in CLIPS[:4] for face in faces]
    alone = [pipeline.run(r) for r in requests]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(pipeline.run, requests[::-1]))[::-1]
    for a, b in zip(alone, together):
        for name in ("blendshapes", "landmarks_local", "pose", "gaze_labels"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
