"""The renderer on real inputs: the astronaut photo, espeak-ng speech and MediaPipe as the judge."""
from __future__ import annotations

import numpy as np
import pytest

from facecue import topology as topo
from facecue.arkit_basis import apply_basis, build_basis
from facecue.config import RenderSize
from facecue.errors import InvalidInput
from facecue.names import ARKIT_INDEX
from facecue.reference import analyze, read_image
from facecue.relocation import project, relocate
from facecue.render import Portrait, WarpRenderer
from facecue.render.lip_bands import SOURCE_DEPTH
from facecue.render.portrait import eye_opening
from facecue.render.shapes import pixel_centres, polygon_coverage
from facecue.render.warp import FADE, FaceFrame

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def renderer():
    return WarpRenderer(device="cpu")


@pytest.fixture(scope="module")
def portrait(pipeline, assets):
    rgb, _ = read_image(assets / "face.png")
    return Portrait(rgb, analyze(rgb, pipeline.detector()))


@pytest.fixture(scope="module")
def prepared(renderer, portrait):
    return renderer.prepare(portrait, RenderSize.parse(256))


@pytest.fixture(scope="module")
def rendered(renderer, prepared, happy_take):
    """Every fourth frame of a spoken take, with the landmarks they were asked to show."""
    landmarks = happy_take.landmarks_image[::4]
    return renderer.render(prepared, landmarks), landmarks


def _luma(frames):
    return frames.astype(np.float32).mean(-1) / 255


def test_sizes_parse_and_bad_sizes_are_refused():
    assert RenderSize.parse(256) == RenderSize("square", 256)
    assert RenderSize.parse("257").edge == 258                # even, for 4:2:0 video
    assert RenderSize.parse("crop").mode == "crop" and RenderSize.parse("FULL").mode == "full"
    for bad in ("huge", "10", "99999", "-5"):
        with pytest.raises(InvalidInput, match="render size"):
            RenderSize.parse(bad)


@pytest.mark.parametrize("size,shape", [("256", (256, 256)), ("512", (512, 512)), ("full", (512, 512))])
def test_output_sizes_and_portrait_framing(renderer, portrait, size, shape):
    prepared = renderer.prepare(portrait, RenderSize.parse(size))
    frame = renderer.render(prepared, portrait.reference.landmarks_image[None])[0]
    assert frame.shape == shape + (3,) and frame.dtype == np.uint8
    face = prepared.framing.to_output(portrait.reference.landmarks_image[topo.group("face_oval")])
    assert face[:, :2].min() >= 0 and face[:, 0].max() <= shape[1] and face[:, 1].max() <= shape[0]
    if size != "full":                                        # the face sits in the middle of a portrait
        centre = face[:, :2].mean(0) / np.array(shape[::-1])
        assert np.all(np.abs(centre - 0.5) < 0.12), centre


def test_crop_size_keeps_the_photos_resolution(renderer, portrait):
    prepared = renderer.prepare(portrait, RenderSize.parse("crop"))
    assert abs(prepared.framing.scale - 1) < 0.01 and prepared.framing.width % 2 == 0


def test_the_photos_own_landmarks_reproduce_the_photo(renderer, prepared, portrait):
    frame = renderer.render(prepared, portrait.reference.landmarks_image[None])[0].astype(np.float32)
    still = prepared.background.permute(1, 2, 0).numpy() * 255
    difference = np.abs(frame - still).mean(-1)
    assert difference.mean() < 1.5, difference.mean()           # of 255
    assert np.percentile(difference, 99) < 20


def test_rendered_faces_follow_the_landmarks(rendered, prepared, pipeline):
    frames, landmarks = rendered
    found = [pipeline.detector().detect(f) for f in frames]
    assert all(len(f) == 1 for f in found), "MediaPipe lost the face in a rendered frame"
    seen = np.stack([f[0][:, :2] for f in found])
    wanted = prepared.framing.to_output(landmarks)[..., :2]
    inter_ocular = np.linalg.norm(wanted[:, 468] - wanted[:, 473], axis=1)[:, None]
    error = np.linalg.norm(seen - wanted, axis=-1) / inter_ocular
    eyes = np.concatenate([topo.group("left_eye"), topo.group("right_eye"), np.arange(468, 478)])
    assert error[:, topo.group("lips")].mean() < 0.06
    assert error[:, eyes].mean() < 0.04
    gap_wanted = np.linalg.norm(wanted[:, 13] - wanted[:, 14], axis=1)
    gap_seen = np.linalg.norm(seen[:, 13] - seen[:, 14], axis=1)
    assert gap_wanted.max() > 4 * max(gap_wanted.min(), 0.5)     # the speech really opens and closes the mouth
    assert np.corrcoef(gap_wanted, gap_seen)[0, 1] > 0.85


def test_background_far_from_the_head_is_perfectly_still(rendered, prepared):
    frames, _ = rendered
    face = FaceFrame.of(prepared.landmarks)
    framing = prepared.framing
    pixels = pixel_centres((framing.height, framing.width), "cpu")[0].numpy()
    photo = np.asarray(framing.origin) + pixels / framing.scale
    far = np.linalg.norm((photo - face.centre) / face.radii, axis=-1) > FADE[1] + 0.05
    assert far.sum() > 1000, "the test needs some background"
    assert np.abs(np.diff(frames.astype(np.int16), axis=0))[:, far].max() == 0


def test_batches_render_the_same_as_single_frames(renderer, prepared, happy_take):
    landmarks = happy_take.landmarks_image[40:46]
    together = renderer.render(prepared, landmarks).astype(np.int16)
    alone = np.concatenate([renderer.render(prepared, landmarks[i:i + 1]) for i in range(6)]).astype(np.int16)
    difference = np.abs(together - alone)
    # A frame's pixels must not depend on which frames share its batch (takes are batched
    # together under concurrency): at most rounding of the last level.
    assert np.mean(difference > 1) < 1e-4 and difference.max() <= 2


def test_the_spline_evaluated_in_blocks_equals_one_dense_sum(monkeypatch):
    # The warp's spline is summed block by block (queries and frames) to stay in cache; the
    # blocks must tile every query of every frame exactly once.
    from facecue.render import thin_plate
    monkeypatch.setattr(thin_plate, "CPU_BLOCK_ELEMENTS", 1)                # one frame per block
    generator = torch.Generator().manual_seed(3)
    targets = torch.rand(3, 40, 2, generator=generator) * 2 - 1
    values = torch.rand(3, 40, 2, generator=generator) * 0.2
    queries = torch.rand(2 * thin_plate.CPU_QUERY_BLOCK + 17, 2, generator=generator) * 3 - 1.5
    coefficients = thin_plate.fit(targets, values)
    blocked = thin_plate.evaluate(coefficients, targets, queries).double().numpy()

    q, t, c = queries.double().numpy(), targets.double().numpy(), coefficients.numpy()
    r2 = ((q[None, :, None] - t[:, None]) ** 2).sum(-1)
    kernel = np.where(r2 > 0, r2 * np.log(np.maximum(r2, 1e-300)), 0.0)
    dense = kernel @ c[:, :40] + c[:, 40:41] + q[None] @ c[:, 41:]
    assert np.abs(blocked - dense).max() < 2e-4             # the kernel itself is float32
    # … and the spline passes through its controls.
    at_controls = np.stack([thin_plate.evaluate(coefficients[i:i + 1], targets[i:i + 1], targets[i]).numpy()[0]
                            for i in range(3)])
    assert np.abs(at_controls - values.numpy()).max() < 5e-3       # smoothed a little


def _look(reference, yaw: float, pitch: float):
    angles = np.tile(np.array([[yaw, pitch], [yaw, pitch]], np.float32), (1, 1, 1))
    _, image = relocate(reference.local[None], reference.pose[None], angles, reference)
    return image


def test_irises_follow_the_gaze_and_stay_inside_the_lids(renderer, prepared, portrait, pipeline):
    reference = portrait.reference
    ahead, aside = _look(reference, 0.0, 0.0), _look(reference, 25.0, 0.0)
    frames = renderer.render(prepared, np.concatenate([ahead, aside]))
    points = torch.as_tensor(prepared.framing.to_output(aside)[..., :2])
    pixels = pixel_centres(frames.shape[1:3], "cpu")
    inside = sum(polygon_coverage(pixels, points[:, list(eye_opening(e))], grow=1.5) for e in ("left", "right"))
    outside = inside[0].numpy() == 0
    change = np.abs(frames[1].astype(np.int16) - frames[0].astype(np.int16)).max(-1)
    assert change[outside].max() == 0, "the iris was drawn outside the eye opening"
    assert change[~outside].mean() > 10, "turning the eyes did not change them"
    iris_seen = [pipeline.detector().detect(f)[0][[468, 473], 0] for f in frames]
    wanted = prepared.framing.to_output(aside)[0, [468, 473], 0] - prepared.framing.to_output(ahead)[0, [468, 473], 0]
    moved = iris_seen[1] - iris_seen[0]
    assert np.all(np.sign(moved) == np.sign(wanted)) and np.all(np.abs(moved) > 0.4 * np.abs(wanted))


def _with_shapes(reference, **weights):
    vector = np.zeros((1, 52), np.float32)
    for name, value in weights.items():
        vector[0, ARKIT_INDEX[name]] = value
    local = apply_basis(reference.local, build_basis(reference.local), vector)
    return project(local, reference.pose[None], reference)


def _lids_closed(points):
    """Each upper lid brought down onto its lower lid, as at the bottom of a blink."""
    closed = points.copy()
    for eye in ("left", "right"):
        upper, lower = list(topo.LID_UPPER[eye][1:-1]), list(topo.LID_LOWER[eye])
        closed[:, upper] = 0.2 * points[:, upper] + 0.8 * points[:, lower]
        closed[:, lower] = closed[:, upper]
    return closed


def test_closed_eyes_show_lids_not_eyes(renderer, prepared, portrait, pipeline):
    closed = _lids_closed(portrait.reference.landmarks_image[None])
    rest, frame = renderer.render(prepared, np.concatenate([portrait.reference.landmarks_image[None], closed]))
    for eye in ("left", "right"):
        upper, lower = topo.EYE_LIDS[eye]
        outer, inner = topo.EYE_CORNERS[eye]
        open_, shut = (np.linalg.norm(seen[upper, :2] - seen[lower, :2]) / np.linalg.norm(seen[outer, :2] - seen[inner, :2])
                       for seen in (pipeline.detector().detect(image)[0] for image in (rest, frame)))
        # MediaPipe reads a shut eye of this photo as 0.1–0.16 open (the reading moves with the
        # rest of the face); open, 0.36.
        assert shut < 0.5 * open_, (eye, shut, open_)
    eye_box = prepared.framing.to_output(closed[0, list(eye_opening("right"))])[:, :2]
    (x0, y0), (x1, y1) = eye_box.min(0).astype(int), eye_box.max(0).astype(int) + 1
    assert _luma(frame[y0:y1, x0:x1]).min() > 0.15, "a dark iris shows through the closed lid"


@pytest.fixture(scope="module")
def closed_mouth_portrait(renderer, portrait, pipeline, tmp_path_factory):
    """A real photo with the lips together: the astronaut rendered with her mouth closed."""
    from PIL import Image
    closed = _with_shapes(portrait.reference, mouthClose=0.0, jawOpen=0.0, mouthRollUpper=0.0)
    closed[0, topo.group("lips")] = _lips_together(closed[0])
    frame = renderer.render(renderer.prepare(portrait, RenderSize.parse(512)), closed)[0]
    path = tmp_path_factory.mktemp("closed") / "closed.png"
    Image.fromarray(frame).save(path)
    rgb, _ = read_image(path)
    return Portrait(rgb, analyze(rgb, pipeline.detector()))


def _lips_together(points):
    """Move the inner lip contours onto their shared midline."""
    out = points[topo.group("lips")].copy()
    lips = list(topo.group("lips"))
    upper, lower = topo.LIP_UPPER_INNER[1:-1], topo.LIP_LOWER_INNER
    for u, l in zip(upper, lower):
        middle = (points[u] + points[l]) / 2
        out[lips.index(u)], out[lips.index(l)] = middle, middle
    return out


def _lip_band_points(points, depth=1.0):
    """Points spread over the outer half of each lip's quads (its inner rim is evened out where
    lips meet over an open mouth) of (478, 2+) landmarks; ``depth`` scales how far into the lip
    they reach (lips meeting over an open mouth show the photo's lips to SOURCE_DEPTH)."""
    from facecue.render.lip_bands import LIPS
    u, v = (t.ravel() for t in np.meshgrid([0.25, 0.5, 0.75], [0.15, 0.3, 0.45]))
    v = v * depth
    out = []
    for outer, inner in LIPS:
        o, i = points[list(outer), :2], points[list(inner), :2]
        for k in range(len(outer) - 1):
            out.append(((1 - u) * (1 - v))[:, None] * o[k] + (u * (1 - v))[:, None] * o[k + 1]
                       + (u * v)[:, None] * i[k + 1] + ((1 - u) * v)[:, None] * i[k])
    return np.concatenate(out)


def _colours_at(image, xy):
    from scipy.ndimage import map_coordinates
    return np.stack([map_coordinates(image[..., c].astype(float), [xy[:, 1] - 0.5, xy[:, 0] - 0.5], order=1)
                     for c in range(3)], -1)


def test_inverse_bilinear_finds_points_inside_quads_and_none_outside():
    from facecue.render.lip_bands import inverse_bilinear
    generator = torch.Generator().manual_seed(3)
    # A lip's quad at the mouth corner, from a rendered take (output px): thin and skewed.
    a, b, c, d = torch.tensor([[100.77, 140.80], [102.85, 142.84], [105.84, 142.20], [102.74, 141.04]],
                              dtype=torch.float64)
    uv = torch.rand(500, 2, generator=generator, dtype=torch.float64)
    u, v = uv[:, 0:1], uv[:, 1:2]
    points = (1 - u) * (1 - v) * a + u * (1 - v) * b + u * v * c + (1 - u) * v * d
    found_u, found_v = inverse_bilinear(points, a, b, c, d)
    assert torch.allclose(found_u, uv[:, 0], atol=1e-6) and torch.allclose(found_v, uv[:, 1], atol=1e-6)
    # Pixels around it: (u, v) in the unit square only for pixels inside the quad.
    pixels = pixel_centres((40, 40), "cpu").double().reshape(-1, 2) + torch.tensor([84.0, 122.0], dtype=torch.float64)
    found_u, found_v = inverse_bilinear(pixels, a, b, c, d)
    claimed = (found_u >= 0) & (found_u <= 1) & (found_v >= 0) & (found_v <= 1)
    inside = polygon_coverage(pixels[None, None], torch.stack([a, b, c, d])[None].float(), grow=0.5)[0, 0] > 0
    assert claimed.any() and not (claimed & ~inside).any(), pixels[claimed & ~inside]


def test_lip_bands_leave_the_photo_as_it_is_at_rest(portrait):
    from facecue.render.lip_bands import lip_field
    photo = torch.as_tensor(portrait.reference.landmarks_image[:, :2], dtype=torch.float64)
    (x0, y0), (x1, y1) = photo[list(topo.group("lips"))].amin(0) - 3, photo[list(topo.group("lips"))].amax(0) + 3
    pixels = pixel_centres((int(y1 - y0), int(x1 - x0)), "cpu").double() + torch.stack([x0, y0]).floor()
    source, weight = lip_field(pixels, photo[None], photo)
    assert weight.max() == 1 and (weight > 0).sum() > 200
    shown = weight > 0
    assert torch.allclose(source[shown], pixels[shown], atol=1e-6)


def test_lips_meeting_over_a_photo_showing_teeth_keep_their_own_texture(renderer, portrait, pipeline):
    """A photo with teeth, its lips brought together: each lip shows the photo's own lip where it
    went (not a lip-coloured band, nor the teeth squeezed between the lips), and MediaPipe reads
    the lips as closed. Each lip is compared with the part of the photo's lip it samples (the
    outer SOURCE_DEPTH of it): 7.0 levels off, the rims lifted where the lips meet accounting for
    most of it (the spline alone: 16.5 levels off the photo's lips)."""
    prepared = renderer.prepare(portrait, RenderSize.parse(512))
    assert prepared.shows_teeth
    reference = portrait.reference
    closed = _with_shapes(reference, mouthClose=0.0, jawOpen=0.0, mouthRollUpper=0.0)
    closed[0, topo.group("lips")] = _lips_together(closed[0])
    rest, sealed = renderer.render(prepared, np.concatenate([reference.landmarks_image[None], closed]))
    framing = prepared.framing
    shown = _colours_at(sealed, framing.to_output(_lip_band_points(closed[0])))
    photo = _colours_at(rest, framing.to_output(_lip_band_points(reference.landmarks_image, SOURCE_DEPTH)))
    assert np.abs(shown - photo).mean() < 10, np.abs(shown - photo).mean()
    seen = pipeline.detector().detect(sealed)[0]
    gap = np.linalg.norm(seen[topo.UPPER_LIP_INNER, :2] - seen[topo.LOWER_LIP_INNER, :2])
    assert gap < 0.03 * np.linalg.norm(seen[topo.MOUTH_CORNER_LEFT, :2] - seen[topo.MOUTH_CORNER_RIGHT, :2])


@pytest.mark.parametrize("kind", ["photo shows teeth", "photo with closed lips"])
def test_an_opening_mouth_shows_a_dark_cavity_and_teeth(renderer, portrait, closed_mouth_portrait, kind):
    source = portrait if kind == "photo shows teeth" else closed_mouth_portrait
    prepared = renderer.prepare(source, RenderSize.parse(512))
    assert prepared.shows_teeth == (kind == "photo shows teeth")
    opened = _with_shapes(source.reference, jawOpen=0.8)
    frame = renderer.render(prepared, opened)[0]
    points = torch.as_tensor(prepared.framing.to_output(opened)[..., :2])
    from facecue.render.portrait import MOUTH_OPENING
    pixels = pixel_centres(frame.shape[:2], "cpu")
    inside = polygon_coverage(pixels, points[:, list(MOUTH_OPENING)])[0].numpy() > 0.99
    luma = _luma(frame)[inside]
    assert inside.sum() > 200, "the jaw did not open the mouth"
    assert np.percentile(luma, 30) < 0.3, "no dark cavity between the lips"
    assert np.percentile(luma, 97) > 0.6, "no teeth between the lips"


@pytest.mark.parametrize("turn", [(-20.0, 0.0), (20.0, 0.0), (0.0, 12.0)])
def test_head_turns_out_of_plane_read_back_as_the_pose(renderer, portrait, pipeline, turn):
    from facecue.reference import reference_from_landmarks
    reference = portrait.reference
    prepared = renderer.prepare(portrait, RenderSize.parse(512))
    pose = reference.pose.copy()
    pose[:2] += np.array(turn, np.float32)
    landmarks = project(reference.local[None], pose[None], reference)
    frame = renderer.render(prepared, landmarks)[0]
    found = pipeline.detector().detect(frame)[0]
    photo = np.asarray(prepared.framing.origin) + found[:, :2] / prepared.framing.scale
    seen = reference_from_landmarks(np.c_[photo, found[:, 2] / prepared.framing.scale],
                                    reference.width, reference.height).pose
    change = seen[:2] - reference.pose[:2]
    wanted = np.array(turn)
    assert np.all(np.abs(change - wanted) < 0.45 * np.abs(wanted).max()), (change, wanted)


def test_concurrent_takes_of_one_portrait_share_render_calls(pipeline, assets, happy_take):
    from concurrent.futures import ThreadPoolExecutor

    from facecue.config import RenderSize
    from facecue.reference import read_image
    from facecue.render.frame_batcher import FrameBatcher
    rgb, _ = read_image(assets / "face.png")
    reference = pipeline.analyze_photo(assets / "face.png")
    size = RenderSize.parse("256")
    prepared = pipeline._prepared(rgb, reference, size)
    assert pipeline._prepared(rgb, reference, size) is prepared                 # one preparation per photo and size
    renderer = pipeline.renderer()
    batcher = FrameBatcher(renderer, max_frames=4 * renderer.batch_frames, wait_s=0.05)
    lines = [happy_take.landmarks_image[:40], happy_take.landmarks_image[40:80]]
    with ThreadPoolExecutor(2) as pool:
        rendered = list(pool.map(lambda marks: np.concatenate(list(batcher.batches(prepared, marks))), lines))
    assert max(batcher.call_frames) > renderer.batch_frames and sum(batcher.call_frames) == 80     # merged calls
    for frames, marks in zip(rendered, lines):
        alone = renderer.render(prepared, marks)
        assert frames.shape == alone.shape and np.abs(frames.astype(int) - alone).max() <= 1


def test_drawn_teeth_hang_from_the_lip_into_the_cheeks_shadow(renderer, closed_mouth_portrait):
    """On a photo that shows no teeth, drawn teeth are lit like its lips and darken toward the
    corners as real teeth do (the dev set's photos with teeth: the outer quarter of the mouth
    at 0.09–0.36 of the middle's brightness, teeth 1.34–1.63 × the lips')."""
    prepared = renderer.prepare(closed_mouth_portrait, RenderSize.parse(512))
    opened = _with_shapes(closed_mouth_portrait.reference, jawOpen=0.6)
    frame = renderer.render(prepared, opened)[0]
    points = prepared.framing.to_output(opened)[0, :, :2]
    from facecue.render.portrait import MOUTH_OPENING
    inside = polygon_coverage(pixel_centres(frame.shape[:2], "cpu"),
                              torch.as_tensor(points[None, list(MOUTH_OPENING)]))[0].numpy() > 0.99
    left, right = points[topo.MOUTH_CORNER_LEFT], points[topo.MOUTH_CORNER_RIGHT]
    axis = (left - right) / np.linalg.norm(left - right)
    ys, xs = np.nonzero(inside)
    along = np.abs((np.c_[xs + 0.5, ys + 0.5] - (left + right) / 2) @ axis) / (np.linalg.norm(left - right) / 2)
    luma = _luma(frame)[ys, xs]
    middle, outer = np.percentile(luma[along < 0.25], 80), np.percentile(luma[along > 0.75], 80)
    # Teeth drawn to the nearest point of the upper lip stood as bright walls at the corners: 0.40.
    assert outer < 0.3 * middle, (outer, middle)
    teeth_over_lips = np.percentile(luma, 97) / float(np.mean(prepared.lip_colour))
    assert 1.1 < teeth_over_lips < 1.9, teeth_over_lips


@pytest.mark.parametrize("kind", ["photo shows teeth", "photo with closed lips"])
def test_a_black_and_white_photo_opens_a_mouth_without_colour(renderer, portrait, closed_mouth_portrait, pipeline,
                                                              tmp_path, kind):
    """The cavity, tongue and drawn teeth take no more colour than the photo has: on a
    greyscale photo a red mouth showed between grey lips (58–64 levels between channels)."""
    from PIL import Image
    source = portrait if kind == "photo shows teeth" else closed_mouth_portrait
    path = tmp_path / "grey.png"
    Image.fromarray(source.rgb).convert("L").save(path)
    rgb, _ = read_image(path)
    grey = Portrait(rgb, analyze(rgb, pipeline.detector()))
    prepared = renderer.prepare(grey, RenderSize.parse(256))
    assert prepared.colourfulness == 0.0
    frame = renderer.render(prepared, _with_shapes(grey.reference, jawOpen=0.6))[0]
    spread = np.ptp(frame.astype(int), axis=-1)
    assert spread.max() <= 1, f"colour in a black-and-white frame: {spread.max()} levels between channels"
