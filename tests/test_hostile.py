"""Hostile and careless inputs: lying audio headers, huge or odd images, pipes and folders as
paths, malformed batch lines, a full disk. Each is refused with a specific message, quickly
and in bounded memory (peak RSS measured in a fresh process), and never leaves a partial take."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench.hostile import PEAK_REPORTER, peak_mb, png_header_only, wav_header
from facecue import batch, take as take_io
from facecue.audio import load_audio
from facecue.config import TakeRequest
from facecue.errors import CorruptTake, FolderBusy, InvalidInput, LimitExceeded
from facecue.reference import read_image

from .conftest import speak


def _peak_rss_mb(code: str) -> tuple[int, str, float]:
    """Run ``code`` in a fresh interpreter: its exit status, stderr and peak resident memory
    (VmHWM, read by the child itself: a forked child's rusage would count this process too)."""
    done = subprocess.run([sys.executable, "-c", PEAK_REPORTER + code], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr, peak_mb(done.stderr)


def _load(path: Path, limit_s: float = 600.0) -> str:
    return (f"import sys\nfrom facecue.audio import load_audio\nfrom facecue.errors import FaceCueError\n"
            f"try:\n    load_audio({str(path)!r}, max_duration_s={limit_s})\n"
            f"except FaceCueError as err:\n    sys.exit(f'{{type(err).__name__}}: {{err}}')\n")


def test_a_wav_that_says_one_hertz_is_refused_from_its_header(tmp_path):
    path = tmp_path / "one_hz.wav"
    path.write_bytes(wav_header(1, 1, 96_000) + bytes(96_000))       # 96 KB that would resample to 3 GB
    status, message, peak = _peak_rss_mb(_load(path))
    assert "InvalidInput" in message and "sample rate is 1 Hz" in message
    assert peak < 400, peak


def test_two_hours_of_flac_is_refused_before_decoding(tmp_path):
    path = tmp_path / "silence.flac"
    with sf.SoundFile(path, "w", 16000, 1, format="FLAC") as flac:
        for _ in range(120):
            flac.write(np.zeros(16000 * 60, np.int16))
    assert path.stat().st_size < 2_000_000
    status, message, peak = _peak_rss_mb(_load(path))
    assert "LimitExceeded" in message and "7200.0 s long; the limit is 600 s" in message
    assert peak < 400, peak


def test_a_sparse_two_gigabyte_wav_is_refused_from_its_header(tmp_path):
    path = tmp_path / "sparse.wav"
    with open(path, "wb") as fh:
        fh.write(wav_header(16000, 1, 2**31 - 64))
        fh.truncate(2**31)                       # sparse: no disk used, 18 h of "audio" by its header
    status, message, peak = _peak_rss_mb(_load(path))
    assert "LimitExceeded" in message and "the limit is 600 s" in message
    assert peak < 400, peak
    key_code = (f"from facecue.identity import _input_digest\n_input_digest({str(path)!r})\n")
    assert _peak_rss_mb(key_code)[2] < 400       # the content key reads inputs in blocks


def test_audio_with_no_length_in_its_header_stops_decoding_at_the_limit(tmp_path):
    wav = tmp_path / "speech.wav"
    speak(wav, "One two three four five six seven eight nine ten.")
    streamed = tmp_path / "speech.webm"          # written to a pipe: the container never learns its length
    with open(streamed, "wb") as out:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(wav), "-c:a", "libopus", "-f", "webm", "pipe:1"],
                       stdout=out, check=True)
    import av
    with av.open(str(streamed)) as container:
        assert not container.duration
    with pytest.raises(LimitExceeded, match="runs past the limit of 1 s"):
        load_audio(streamed, max_duration_s=1.0)
    assert load_audio(streamed).duration_s > 2.0


@pytest.mark.parametrize("width,height", [(20000, 20000), (10000, 9000)])
def test_huge_photos_are_refused_from_their_header(tmp_path, width, height):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(width, height))
    with pytest.raises(LimitExceeded, match="the limit of 80 MP|the limit is 80 MP"):
        read_image(path)
    status, message, peak = _peak_rss_mb(f"from facecue.reference import read_image\nread_image({str(path)!r})")
    assert "LimitExceeded" in message and peak < 400, (message, peak)


def test_a_sixteen_bit_greyscale_photo_keeps_its_face(pipeline, assets, tmp_path):
    from PIL import Image
    grey = np.asarray(Image.open(assets / "face.png").convert("L"), np.uint16) * 257
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    assert Image.open(tmp_path / "grey16.png").mode.startswith("I")
    rgb, _ = read_image(tmp_path / "grey16.png")
    assert rgb.dtype == np.uint8 and 60 < rgb.mean() < 200            # not clipped to white
    assert pipeline.analyze_photo(tmp_path / "grey16.png").faces_found == 1


def _group_photo(assets: Path, scales: list[float]) -> np.ndarray:
    from PIL import Image
    face = Image.open(assets / "face.png").convert("RGB").crop((140, 20, 320, 220))
    canvas = Image.new("RGB", (2400, 1200), (90, 100, 110))
    for i, scale in enumerate(scales):
        size = (int(face.width * scale), int(face.height * scale))
        canvas.paste(face.resize(size, Image.LANCZOS), (150 + 750 * i, 450))
    return np.asarray(canvas)


def test_small_faces_in_a_group_photo(pipeline, assets):
    from facecue.reference import analyze
    reference = analyze(_group_photo(assets, [0.5, 0.7, 0.6]), pipeline.detector(), "group")
    assert reference.faces_found == 3 and "found 3 faces" in reference.warnings[0]
    assert 40 < np.ptp(reference.landmarks_image[:, 0]) < 130      # the 0.7 face, meshed in its crop
    assert 900 < reference.landmarks_image[:, 0].mean() < 1030
    with pytest.raises(InvalidInput, match="too small: the largest is .* px wide"):
        analyze(_group_photo(assets, [0.2, 0.15]), pipeline.detector(), "crowd")


@pytest.mark.parametrize("make,message", [
    (lambda p: os.mkfifo(p), "not a regular file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: None, "does not exist"),
])
def test_pipes_folders_and_missing_paths_are_refused_before_reading(assets, tmp_path, make, message):
    path = tmp_path / "input.wav"
    make(path)
    with pytest.raises(InvalidInput, match=message):
        TakeRequest(audio=path, image=assets / "face.png").check()


# -- batch --------------------------------------------------------------------------------------

@pytest.mark.parametrize("line,message", [
    ("null", "each line must be a JSON object"),
    ("[1, 2]", "each line must be a JSON object"),
    ('{"name": "a", "audio": "x.wav", "image": "y.png", "intensity": "high"}', "'intensity' must be a number"),
    ('{"name": "a", "audio": "x.wav", "image": "y.png", "fps": NaN}', "'fps' must be a finite number"),
    ('{"name": "batch_report.jsonl", "audio": "x.wav", "image": "y.png"}', "reserved for the batch's own files"),
    ('{"name": "a", "audio": "x.wav", "image": "y.png", "emotoin": "sad"}', "unknown field 'emotoin'"),
])
def test_malformed_batch_lines_are_refused_by_line(tmp_path, line, message):
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(line + "\n")
    with pytest.raises(InvalidInput, match=f"jobs.jsonl line 1: .*{message}"):
        batch.read_manifest(manifest)
    done = subprocess.run([sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_batch_folder_is_owned_by_one_run(assets, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    live_staging = out / ".take0.partial-12345678"          # the first run's take, being written
    live_staging.mkdir()
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(json.dumps({"name": "take0", "audio": str(assets / "speech.wav"),
                                    "image": str(assets / "face.png")}) + "\n")
    with batch.owned(out):
        with pytest.raises(FolderBusy, match=f"pid {os.getpid()}"):
            with batch.owned(out):
                pass
        second = subprocess.run([sys.executable, "-m", "facecue.cli", "batch", str(manifest), "--out", str(out)],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2 and "in use by another facecue batch" in second.stderr
        assert live_staging.is_dir()                         # the owner's work was not touched
    assert not (out / batch.LOCK).exists()
    with batch.owned(out):                                   # free again once released
        pass


def _one_take_batch(assets: Path, folder: Path) -> Path:
    manifest = folder / "one.jsonl"
    manifest.write_text(json.dumps({"name": "take0", "audio": str(assets / "speech.wav"),
                                    "image": str(assets / "face.png"), "seed": 4}) + "\n")
    return manifest


@pytest.mark.parametrize("damage", ["delete audio", "truncate cues", "flip a byte"])
def test_a_damaged_take_is_made_again_not_skipped(assets, tmp_path, damage):
    manifest, out = _one_take_batch(assets, tmp_path), tmp_path / "out"
    assert [o.status for o in batch.run(manifest, out)] == ["done"]
    take_io.verify(out / "take0")
    if damage == "delete audio":
        (out / "take0" / take_io.AUDIO).unlink()
    elif damage == "truncate cues":
        with open(out / "take0" / take_io.CUES, "r+b") as fh:
            fh.truncate(100)
    else:
        data = bytearray((out / "take0" / take_io.AUDIO).read_bytes())
        data[-1] ^= 0xFF
        (out / "take0" / take_io.AUDIO).write_bytes(bytes(data))
    with pytest.raises(CorruptTake):
        take_io.verify(out / "take0")
    assert [o.status for o in batch.run(manifest, out)] == ["done"]
    take_io.verify(out / "take0")
    assert [o.status for o in batch.run(manifest, out)] == ["skipped"]


class _VanishingMedia:
    """Frames whose writing coincides with another process deleting the take's cues."""

    def write_into(self, directory: Path) -> dict:
        (directory / take_io.CUES).unlink()
        return {"files": {"frames": None, "video": None}, "render": None}


def test_a_take_missing_files_is_never_renamed_into_place(happy_take, tmp_path):
    damaged = take_io.Take(manifest=dict(happy_take.manifest), arrays=happy_take.arrays,
                           audio_wav=happy_take.audio_wav, media=_VanishingMedia())
    with pytest.raises(CorruptTake, match="missing"):
        take_io.write(damaged, tmp_path / "take")
    assert not list(tmp_path.iterdir())                     # neither the take nor its staging folder


# -- the command line ----------------------------------------------------------------------------

# Sets a small file-size limit (a real write failure, as on a full disk), then becomes the command.
# The limit is set by a launcher, not a preexec_fn: Python code run between fork and exec in a
# process whose gRPC threads are running (earlier tests' servers) aborted the child now and then.
_SMALL_FILE_LIMIT = ("import os, resource, signal, sys\n"
                     "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                     "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))\n"
                     "os.execv(sys.executable, [sys.executable] + sys.argv[1:])")


def test_a_full_disk_is_one_line_and_leaves_no_partial_take(assets, tmp_path):
    out = tmp_path / "take"
    done = subprocess.run([sys.executable, "-c", _SMALL_FILE_LIMIT, "-m", "facecue.cli", "generate",
                           "--audio", str(assets / "speech.wav"), "--image", str(assets / "face.png"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "cannot write take" in done.stderr and "File too large" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    ours = [line for line in done.stderr.splitlines() if line.startswith("facecue:")]   # MediaPipe logs aside
    assert len(ours) == 1 and ours[0].startswith("facecue: error: cannot write take")
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_a_token_typed_on_the_command_line_is_warned_about(tmp_path):
    from facecue.security import read_token
    said = []
    assert read_token("s3cret-token-of-some-length", warn=said.append) == "s3cret-token-of-some-length"
    assert "process list" in said[0]
    (tmp_path / "token").write_text("s3cret-token-of-some-length\n")
    said.clear()
    assert read_token(f"@{tmp_path / 'token'}", warn=said.append) == "s3cret-token-of-some-length"
    assert not said


def test_in_memory_bytes_are_refused_like_files():
    with pytest.raises(InvalidInput, match="sample rate is 1 Hz"):
        load_audio(wav_header(1, 1, 9600) + bytes(9600))
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(16000 * 700, np.int16), 16000, format="WAV", subtype="PCM_16")
    with pytest.raises(LimitExceeded, match="700.0 s long"):
        load_audio(buffer.getvalue(), max_duration_s=600)
