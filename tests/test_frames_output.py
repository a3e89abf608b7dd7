"""Rendered takes on disk and over the wire: image sequences, take.mp4 in sync, CLI flags."""
from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from facecue import take as take_io
from facecue.config import RenderOptions, RenderSize, TakeRequest
from facecue.errors import Cancelled

from .conftest import speak
from .test_cli import facecue


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory):
    return speak(tmp_path_factory.mktemp("short") / "short.wav", "Good morning, everyone.")


def _request(assets, audio, **kwargs):
    render = RenderOptions(size=RenderSize.parse(kwargs.pop("size", 256)),
                           image_format=kwargs.pop("image_format", "png"), video=kwargs.pop("video", True))
    return TakeRequest(audio=audio, image=assets / "face.png", emotion="happy", render=render, **kwargs)


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97])
def test_png_sequence_and_video_in_sync(pipeline, assets, short_speech, tmp_path, fps):
    take = pipeline.run(_request(assets, short_speech, fps=fps))
    out = take_io.write(take, tmp_path / "take")
    stored = take_io.load(out)
    count = stored.frame_count
    assert stored.manifest["files"]["frames"] == "frames/%06d.png"
    assert sorted(p.name for p in (out / "frames").iterdir()) == [f"{i:06d}.png" for i in range(count)]
    first = np.asarray(Image.open(out / "frames" / "000000.png"))
    expected = pipeline.renderer().render(take.media.prepared, take.landmarks_image[:1])[0]
    assert first.shape == (256, 256, 3) and np.array_equal(first, expected)      # PNG is lossless

    with av.open(str(out / "take.mp4")) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.codec_context.name == "h264" and audio.codec_context.name == "aac"
        assert video.average_rate == Fraction(fps).limit_denominator(1001)
        assert (video.width, video.height) == (256, 256)
        decoded = [frame for frame in container.decode(video=0)]
    assert len(decoded) == count
    assert decoded[0].time == 0
    assert abs(decoded[-1].time - (count - 1) / fps) < 1e-3
    with av.open(str(out / "take.mp4")) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
        rate = container.streams.audio[0].rate
        start = container.streams.audio[0].start_time * container.streams.audio[0].time_base
    assert abs(start) < 0.05                                  # audio starts with frame 0
    assert abs(samples / rate - stored.manifest["duration_s"]) < 0.06
    picture = decoded[count // 2].to_ndarray(format="rgb24").astype(np.float32)
    rendered = np.asarray(Image.open(out / "frames" / f"{count // 2:06d}.png")).astype(np.float32)
    assert np.abs(picture - rendered).mean() < 6              # the video shows the same frames


def test_jpeg_and_exr_sequences(pipeline, assets, short_speech, tmp_path):
    import cv2
    png = take_io.write(pipeline.run(_request(assets, short_speech, video=False)), tmp_path / "png")
    jpeg = take_io.write(pipeline.run(_request(assets, short_speech, image_format="jpeg", video=False)), tmp_path / "jpeg")
    exr = take_io.write(pipeline.run(_request(assets, short_speech, image_format="exr", video=False)), tmp_path / "exr")
    assert not (png / "take.mp4").exists() and take_io.load(png).manifest["files"]["video"] is None
    reference = np.asarray(Image.open(png / "frames" / "000003.png")).astype(np.float32) / 255
    as_jpeg = np.asarray(Image.open(jpeg / "frames" / "000003.jpg")).astype(np.float32) / 255
    assert np.abs(as_jpeg - reference).mean() < 0.02
    linear = cv2.imread(str(exr / "frames" / "000003.exr"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert linear.dtype == np.float32
    expected = np.where(reference <= 0.04045, reference / 12.92, ((reference + 0.055) / 1.055) ** 2.4)
    assert np.abs(linear - expected).max() < 2e-3             # half floats, scene-linear
    assert take_io.load(exr).media.image_format == "exr"


def test_missing_frames_make_a_take_corrupt(pipeline, assets, short_speech, tmp_path):
    from facecue.errors import CorruptTake
    out = take_io.write(pipeline.run(_request(assets, short_speech, video=False)), tmp_path / "take")
    last = sorted((out / "frames").iterdir())[-1]
    last.unlink()
    with pytest.raises(CorruptTake, match="frames are incomplete"):
        take_io.load(out)


def test_a_render_stopped_midway_leaves_nothing_behind(pipeline, assets, short_speech, tmp_path):
    def progress(stage, fraction):
        if stage.startswith("render") and fraction > 0.5:
            raise Cancelled("stopped by the test")
    take = pipeline.run(_request(assets, short_speech), progress)
    with pytest.raises(Cancelled):
        take_io.write(take, tmp_path / "take")
    assert list(tmp_path.iterdir()) == []


def test_server_streams_frames_and_video_when_asked(client, assets, short_speech, tmp_path):
    seen = []
    take = client.generate(short_speech, assets / "face.png", emotion="sad", render=True, size="256",
                           on_progress=seen.append)
    assert len(take.media.images) == take.frame_count
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert sum(0.1 < f < 0.9 for f in seen) >= 5          # the server reported progress while rendering
    first = np.asarray(Image.open(io.BytesIO(take.media.images[0])))
    assert first.shape == (256, 256, 3)
    assert take.media.video[4:8] == b"ftyp"
    out = take_io.write(take, tmp_path / "take")
    stored = take_io.load(out)
    assert len(stored.media.images) == take.frame_count and (out / "take.mp4").stat().st_size > 1000
    assert stored.manifest["render"]["framing"]["width"] == 256

    job_id = client.jobs(limit=1)[0].job_id
    again = client.pull(job_id, frames=True, video=False)
    assert list(again.media.images) == list(take.media.images) and again.media.video is None
    cues_only = client.pull(job_id, frames=False, video=False)
    assert cues_only.media is None and cues_only.manifest["files"]["frames"] is None
    take_io.load(take_io.write(cues_only, tmp_path / "cues-only"))          # still a valid take


def test_a_job_cancelled_while_rendering_ends_cancelled(client, assets, server):
    import threading
    from facecue.client import FaceCueClientError
    job = {}

    def cancel_once_rendering(fraction):
        if fraction > 0.3 and not job:
            job["id"] = client.jobs(limit=1)[0].job_id
            threading.Thread(target=client.cancel, args=(job["id"],)).start()
    with pytest.raises(FaceCueClientError) as err:
        client.generate(assets / "speech.wav", assets / "face.png", render=True, size="512",
                        on_progress=cancel_once_rendering)
    assert err.value.code == "CANCELLED"
    assert client.job(job["id"]).state == client.job(job["id"]).CANCELLED
    from facecue.store import TakeStore
    store = TakeStore(server["store"])
    assert not store.take_path(store.get(job["id"]).content_key).exists()


def test_server_refuses_a_bad_render_request(client, assets, short_speech):
    from facecue.client import FaceCueClientError
    with pytest.raises(FaceCueClientError) as err:
        client.generate(short_speech, assets / "face.png", render=True, size="tiny")
    assert err.value.code == "INVALID_ARGUMENT" and "render size 'tiny'" in err.value.message
    with pytest.raises(FaceCueClientError) as err:
        client.generate(short_speech, assets / "face.png", render=True, image_format="gif")
    assert err.value.code == "INVALID_ARGUMENT" and "image format 'gif'" in err.value.message


def test_cli_render_flags(assets, short_speech, tmp_path):
    out = tmp_path / "jpeg"
    result = facecue("generate", "--audio", short_speech, "--image", assets / "face.png", "--size", "256",
                     "--image-format", "jpeg", "--no-video", "--out", out)
    assert result.returncode == 0, result.stderr
    assert (out / "frames" / "000000.jpg").is_file() and not (out / "take.mp4").exists()
    out = tmp_path / "cues"
    result = facecue("generate", "--audio", short_speech, "--image", assets / "face.png", "--no-render", "--out", out)
    assert result.returncode == 0 and not (out / "frames").exists()
    result = facecue("generate", "--audio", short_speech, "--image", assets / "face.png", "--size", "3",
                     "--out", tmp_path / "bad")
    assert result.returncode == 2 and "render size 3 is outside" in result.stderr.strip().splitlines()[-1]


def test_cli_renders_an_existing_take_and_refuses_another_photo(assets, short_speech, tmp_path):
    out = tmp_path / "take"
    assert facecue("generate", "--audio", short_speech, "--image", assets / "face.png", "--no-render",
                   "--out", out).returncode == 0
    cues = take_io.load(out).landmarks_image
    mirrored = tmp_path / "mirrored.png"
    Image.open(assets / "face.png").transpose(Image.FLIP_LEFT_RIGHT).save(mirrored)
    result = facecue("render", out, "--image", mirrored, "--size", "256")
    assert result.returncode == 2 and "is not the photo this take was made from" in result.stderr
    assert take_io.load(out).media is None                      # the take is untouched

    result = facecue("render", out, "--image", assets / "face.png", "--size", "256", "--no-video")
    assert result.returncode == 0, result.stderr
    rendered = take_io.load(out)
    assert len(rendered.media.images) == rendered.frame_count and np.array_equal(rendered.landmarks_image, cues)
    assert rendered.manifest["render"]["size"] == "256" and rendered.manifest["files"]["video"] is None
