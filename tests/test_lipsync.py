"""Lip sync on real recordings and real photos (the development set, fetched by `make test`)."""
from __future__ import annotations

import numpy as np
import pytest

from facecue.evaluation import devset, harness, lipsync

TEXTS = {c.name: c.transcript for c in devset.CLIPS}


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


@pytest.fixture(scope="module")
def faces(root, pipeline):
    return {f.name: pipeline.analyze_photo(str(devset.face_path(root, f.name))) for f in devset.FACES}


@pytest.fixture(scope="module")
def aligned_clips(root):
    """Takes timed by the clip's own transcript: the mouth geometry alone is under test."""
    return [harness.prepare_clip(devset.clip_path(root, n), TEXTS[n], use_transcript=True)
            for n in ("something", "cards5", "beckett")]


def _open_median(gap, clip, fps):
    return lipsync.open_median(gap, lipsync.frame_phones(clip.reference_phones, len(gap), fps))


@pytest.mark.parametrize("face_name", ["closed", "teeth", "open"])
def test_lips_seal_in_3d_at_bilabials_and_silence(pipeline, faces, aligned_clips, face_name):
    backend, fps = pipeline.backends["procedural"], 30.0
    for clip in aligned_clips:
        take = harness.make_take(backend, clip, faces[face_name], fps)
        gap, _ = lipsync.mouth_measures(take.local)
        open_median = _open_median(gap, clip, fps)
        assert open_median > 0.25, f"{clip.name}: the mouth barely opens ({open_median:.2f} cm)"
        for phone, start, end in zip(clip.reference_phones.phones, clip.reference_phones.start_s,
                                     clip.reference_phones.end_s):
            if phone in lipsync.BILABIALS:
                inside = lipsync.segment_frames(start, end, len(gap), fps)
                assert gap[inside].min() < 0.02 * open_median, f"{clip.name}: {phone} at {start:.2f} s stays open"
        assert gap[0] < 0.02 * open_median, f"{clip.name}: the mouth is not closed before speech starts"


def test_jaw_opens_alike_on_every_face(faces):
    per_unit = {name: harness.jaw_per_unit(face) for name, face in faces.items()}
    mean = np.mean(list(per_unit.values()))
    assert mean > 0.08, per_unit
    for name, value in per_unit.items():
        assert abs(value / mean - 1) <= 0.2, f"{name}: jawOpen opens {value:.3f} of face height vs mean {mean:.3f}"


def test_metric_fails_lips_that_never_close_and_passes_lips_that_do(pipeline, faces, aligned_clips):
    clip, fps = aligned_clips[-1], 25.0
    take = harness.make_take(pipeline.backends["procedural"], clip, faces["teeth"], fps)
    gap, width = lipsync.mouth_measures(take.local)
    good = lipsync.pooled([lipsync.score(gap, width, clip.reference_phones, fps, clip.duration_s)])
    assert all(lipsync.meets(good)[k] for k in ("closure", "open_closed", "silence_open", "lag")), good
    # The same mouth, never closing further than half its open median.
    ajar = np.maximum(gap, 0.5 * _open_median(gap, clip, fps))
    bad = lipsync.pooled([lipsync.score(ajar, width, clip.reference_phones, fps, clip.duration_s)])
    assert bad["closure"] == 0.0 and not lipsync.meets(bad)["closure"]
    assert not lipsync.meets(bad)["silence_open"]
    # A mouth that moves late by three frames is caught by the lag.
    late = np.concatenate([np.full(3, gap[0]), gap[:-3]])
    assert lipsync.score(late, width, clip.reference_phones, fps, clip.duration_s).lag >= 2


def test_dev_slice_meets_targets_without_a_transcript(pipeline, root, faces):
    """Words recognised offline, force-aligned, on a closed-mouth and a teeth-showing photo.

    A fast slice (four clips, 13 bilabials); bench/lipsync.py scores the whole set."""
    clips = [harness.prepare_clip(devset.clip_path(root, n), TEXTS[n])
             for n in ("goforward", "something", "beckett", "endgame")]
    assert clips[0].phones.method == "recognised words, aligned"
    backend = pipeline.backends["procedural"]
    for face_name in ("closed", "teeth"):
        for fps in (24.0, 60.0):
            summary = lipsync.pooled([harness.score_take(harness.make_take(backend, c, faces[face_name], fps), c, fps)
                                      for c in clips])
            assert all(lipsync.meets(summary).values()), (face_name, fps, summary)


def test_reserved_files_are_refused():
    with pytest.raises(ValueError, match="reserved"):
        devset._read_member(devset.default_root() / "x.tar.gz", "pocketsphinx-5.1.1/test/data/librivox/a.wav")


def test_numbers_are_spelled_as_spoken():
    from facecue.phonemes import spell_numbers
    assert spell_numbers("10 of clubs, 4 of hearts") == "ten of clubs, four of hearts"
    assert spell_numbers("1999") == "one thousand nine hundred ninety nine"
    assert spell_numbers("29340") == "two nine three four zero"
