"""The renderer's CUDA paths against its CPU ones (run on a GPU machine; skipped elsewhere).

Only torch and numpy are needed: the photo is the bundled sample with its precomputed
landmarks, animated through the ARKit basis, so these run where MediaPipe does not.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def sample():
    """The bundled sample portrait and 48 frames of a talking, blinking, turning, smiling head."""
    from bench.render import motion, sample_portrait
    portrait = sample_portrait()
    return portrait, motion(portrait.reference, 48, smile=0.6)


def test_the_fused_spline_is_the_dense_float64_sum(monkeypatch):
    from facecue.render import fused_spline, thin_plate
    assert fused_spline.available(), "PyTorch's CUDA builds bring Triton"
    generator = torch.Generator().manual_seed(3)
    targets = (torch.rand(5, 333, 2, generator=generator) * 2 - 1).cuda()
    values = (torch.rand(5, 333, 2, generator=generator) * 0.2).cuda()
    queries = (torch.rand(1000, 2, generator=generator) * 3 - 1.5).cuda()
    queries[:7] = targets[0, :7]                                          # exactly on controls
    coefficients = thin_plate.fit(targets, values)
    fused = thin_plate.evaluate(coefficients, targets, queries).double().cpu().numpy()
    monkeypatch.setattr(fused_spline, "available", lambda: False)
    blocked = thin_plate.evaluate(coefficients, targets, queries).double().cpu().numpy()
    monkeypatch.undo()

    q, t, c = queries.double().cpu().numpy(), targets.double().cpu().numpy(), coefficients.cpu().numpy()
    r2 = np.maximum(((q[None, :, None] - t[:, None]) ** 2).sum(-1), thin_plate.NEAREST)
    dense = (r2 * np.log(r2)) @ c[:, :333] + c[:, 333:334] + q[None] @ c[:, 334:]
    # 333 random controls make large weights of both signs: the blocked path's float32 kernel
    # shows (~1e-3); the fused one is float64 throughout, rounded to float32 only at the end.
    fused_error, blocked_error = np.abs(fused - dense).max(), np.abs(blocked - dense).max()
    assert fused_error < 1e-6 and fused_error < blocked_error, (fused_error, blocked_error)
    assert np.abs(fused[0, :7] - values[0, :7].cpu().numpy()).max() < 5e-3      # through its controls
    # A frame's field does not depend on the frames beside it.
    alone = thin_plate.evaluate(coefficients[2:3], targets[2:3], queries).cpu().numpy()
    assert np.array_equal(alone[0], fused[2].astype(np.float32))


@pytest.mark.parametrize("size", ["256", "512"])
def test_cuda_frames_match_cpu_frames_and_do_not_depend_on_the_batch(sample, size):
    from facecue.config import RenderSize
    from facecue.render import WarpRenderer
    portrait, landmarks = sample
    frames = {}
    for device in ("cpu", "cuda"):
        renderer = WarpRenderer(device=device)
        prepared = renderer.prepare(portrait, RenderSize.parse(size))
        frames[device] = renderer.render(prepared, landmarks).astype(np.int16)
    difference = np.abs(frames["cuda"] - frames["cpu"])
    # Different kernels round differently: a level here and there, never a visible change.
    assert np.mean(difference > 1) < 1e-3 and difference.max() <= 8

    renderer = WarpRenderer(device="cuda")
    prepared = renderer.prepare(portrait, RenderSize.parse(size))
    alone = np.concatenate([renderer.render(prepared, landmarks[i:i + 1]) for i in (5, 20, 40)]).astype(np.int16)
    batched = frames["cuda"][[5, 20, 40]]
    assert np.mean(np.abs(alone - batched) > 1) < 1e-4 and np.abs(alone - batched).max() <= 2
    # Batches whose host copies overlap the next batch's rendering arrive whole and in order.
    overlapped = np.concatenate(list(renderer.batches(prepared, landmarks, 7))).astype(np.int16)
    assert overlapped.shape == frames["cuda"].shape
    assert np.mean(np.abs(overlapped - frames["cuda"]) > 1) < 1e-4 and np.abs(overlapped - frames["cuda"]).max() <= 2


def test_the_fused_lip_bands_pick_the_same_quads_as_the_planes(sample, monkeypatch):
    from facecue.config import RenderSize
    from facecue.render import WarpRenderer, fused_bands, lip_bands
    from facecue.render.shapes import pixel_centres
    assert fused_bands.available()
    portrait, landmarks = sample
    renderer = WarpRenderer(device="cuda")
    prepared = renderer.prepare(portrait, RenderSize.parse(512))
    points = renderer.output_points(prepared, renderer.photo_points(landmarks))
    lips = points[:, [i for outer, inner in lip_bands.LIPS for i in outer + inner]].reshape(-1, 2)
    (x0, y0), (x1, y1) = lips.amin(0).floor().int().tolist(), lips.amax(0).ceil().int().tolist()
    corner = torch.tensor([x0 - 4.0, y0 - 4.0], device="cuda")
    pixels = (pixel_centres((y1 - y0 + 8, x1 - x0 + 8), "cuda") + corner).expand(len(points), -1, -1, -1)
    for outer, inner in lip_bands.LIPS:
        fused = lip_bands._band(pixels, points[:, list(outer)], points[:, list(inner)])
        monkeypatch.setattr(fused_bands, "available", lambda: False)
        planes = lip_bands._band(pixels, points[:, list(outer)], points[:, list(inner)])
        monkeypatch.undo()
        assert (fused[0] == planes[0]).float().mean() > 0.999             # ties on shared edges aside
        same = (fused[0] == planes[0]) & torch.isfinite(planes[1]) & torch.isfinite(planes[2])
        assert torch.equal(torch.isnan(fused[1]), torch.isnan(planes[1]))
        for got, want in zip(fused[1:], planes[1:]):
            assert (got[same] - want[same]).abs().max() < 1e-3
