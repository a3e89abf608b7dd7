"""ARKit weights solved from landmarks, on landmark sets with known weights."""
from __future__ import annotations

import numpy as np
import pytest

from facecue.arkit_basis import apply_basis, build_basis, seal_lips
from facecue.blendshape_solver import SOLVED, solve
from facecue.names import ARKIT_INDEX, ARKIT_NAMES
from facecue.reference import analyze, read_image, without_expression


@pytest.fixture(scope="module")
def reference(pipeline, assets):
    rgb, _ = read_image(assets / "face.png")
    return analyze(rgb, pipeline.detector())


def test_recovers_known_weights_from_a_spoken_take(happy_take, reference):
    rest = seal_lips(without_expression(reference).local)     # takes move from the neutralised, lips-sealed rest
    weights = solve(happy_take.landmarks_local, rest, happy_take.gaze_angles)
    truth = happy_take.blendshapes
    assert weights.dtype == np.float32 and weights.min() >= 0 and weights.max() <= 1
    error = np.abs(weights - truth)[:, SOLVED]
    assert error.mean() < 0.03
    jaw = ARKIT_INDEX["jawOpen"]
    assert np.corrcoef(weights[:, jaw], truth[:, jaw])[0, 1] > 0.98
    look = [ARKIT_INDEX[n] for n in ARKIT_NAMES if n.startswith("eyeLook")]
    np.testing.assert_allclose(weights[:, look], truth[:, look], atol=1e-6)       # from the gaze, exactly
    assert np.all(weights[:, ARKIT_INDEX["tongueOut"]] == 0)
    rebuilt = apply_basis(rest, build_basis(rest), weights)
    assert np.abs(rebuilt[:, :468] - happy_take.landmarks_local[:, :468]).max() < 0.1          # cm


def test_random_expressions_and_frame_independence(reference):
    rng = np.random.default_rng(3)
    truth = np.zeros((40, 52), np.float32)
    for name in ("jawOpen", "mouthSmileLeft", "browInnerUp", "eyeBlinkRight", "mouthPucker", "cheekPuff", "jawLeft"):
        truth[:, ARKIT_INDEX[name]] = rng.uniform(0, 1, 40) * (rng.random(40) < 0.6)
    basis = build_basis(reference.local)
    landmarks = apply_basis(reference.local, basis, truth)
    weights = solve(landmarks, reference.local, basis=basis)
    assert np.abs(weights - truth)[:, SOLVED].mean() < 0.02
    assert weights[:, ARKIT_INDEX["jawRight"]].max() < 0.05             # the mirror twin stays off
    one = solve(landmarks[7:8], reference.local, basis=basis)
    np.testing.assert_allclose(one[0], weights[7], atol=2e-4)         # each frame solved on its own (float32)
