"""Training data: a synthetic corpus, and videos prepared with MediaPipe on every frame."""
from __future__ import annotations

import shutil

import numpy as np

from facecue import take as take_io
from facecue.config import RenderOptions, RenderSize, TakeRequest
from facecue.dataset import clips, prepare, synthetic


def test_synthetic_corpus_is_consistent_and_resumable(pipeline, tmp_path):
    paths = synthetic.build(tmp_path, 3, seed=5, pipeline=pipeline)
    index = clips.read_index(tmp_path)
    assert len(paths) == len(index) == 3
    for path in paths:
        clip = clips.load(path)
        seconds = len(clip.mfcc) / 100
        assert abs(clip.frames / clip.fps - seconds) < 0.1
        assert clip.landmarks_local.shape == (clip.frames, 478, 3) and clip.mfcc.shape[1] == 28
        assert clip.gaze_labels.dtype == np.int16 and clip.source.startswith("espeak-ng")
    before = {p: p.stat().st_mtime_ns for p in paths}
    again = synthetic.build(tmp_path, 4, seed=5, pipeline=pipeline)     # resumes: 3 kept, 1 new
    assert again[:3] == paths and all(p.stat().st_mtime_ns == before[p] for p in paths)
    assert len(clips.read_index(tmp_path)) == 4


def test_prepared_video_matches_the_take_it_shows(pipeline, assets, tmp_path):
    take = pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png", emotion="sad",
                                    render=RenderOptions(size=RenderSize.parse("crop"), video=True)))
    rendered = take_io.write(take, tmp_path / "take")
    dataset = tmp_path / "MEAD"
    target = dataset / "M003" / "video" / "front" / "sad" / "level_2" / "001.mp4"
    target.parent.mkdir(parents=True)
    shutil.copy(rendered / "take.mp4", target)
    counts = prepare.prepare(dataset, tmp_path / "cache")
    assert counts == {"prepared": 1, "skipped": 0, "failed": 0}
    clip = clips.load(tmp_path / "cache" / "M003" / "sad" / "level_2" / "001.npz")
    assert (clip.actor, clip.emotion, clip.level) == ("M003", "sad", 2) and clip.frames == take.frame_count
    # MediaPipe on the rendered video reads back the head motion the take asked for.
    for axis in (0, 1):
        assert np.corrcoef(clip.pose[:, axis], take.pose[:, axis])[0, 1] > 0.7
    assert np.abs(clip.pose[:, 1] - take.pose[:, 1]).mean() < 3.0            # degrees of pitch
    assert abs(len(clip.mfcc) / 100 - take.manifest["duration_s"]) < 0.15
    assert prepare.prepare(dataset, tmp_path / "cache") == {"prepared": 0, "skipped": 1, "failed": 0}
    # The MEAD-layout cache trains and evaluates like the synthetic corpus.
    from facecue.neural.backend import NeuralBackend
    from facecue.neural.config import TrainConfig
    from facecue.neural.evaluation import evaluate
    from facecue.neural.training import train
    summary = train(tmp_path / "cache", tmp_path / "mead.pt", tcfg=TrainConfig(steps=4, batch=2), version="neural-mead")
    assert summary["clips"] == {"train": 1, "validation": 0} and summary["frames"] == clip.frames
    report = evaluate(tmp_path / "cache", NeuralBackend(tmp_path / "mead.pt"))
    assert report["clips"] == 1 and np.isfinite(report["metrics"]["model"]["fld_mm"])
