"""Rendered frames into a take: an image sequence and an H.264 + AAC video with the audio.

Rendering, image encoding and video encoding run as one pass over frame batches, so a take
of any length needs memory for one batch only. Encoders release the GIL: images are
encoded on a small thread pool while the next batch renders.
"""
from __future__ import annotations

import io
import os
import wave
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import RenderOptions
from ..take import FRAMES_DIR, VIDEO, frame_pattern
from .portrait import PreparedPortrait

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")   # OpenCV reads it at the first EXR write

VIDEO_CRF = 18            # visually lossless H.264
AUDIO_RATE = 48_000       # AAC at the rate every player and editor expects

FrameProgress = Callable[[int, int], None]


def encode_image(frame: np.ndarray, image_format: str) -> bytes:
    """One RGB uint8 frame → PNG, JPEG or half-float linear EXR bytes."""
    import cv2
    bgr = np.ascontiguousarray(frame[..., ::-1])
    if image_format == "png":
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    elif image_format == "jpeg":
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    else:                                   # EXR holds scene-linear light: undo the sRGB curve
        ok, data = cv2.imencode(".exr", _srgb_to_linear(bgr), [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF])
    if not ok:
        raise RuntimeError(f"could not encode a frame as {image_format}")
    return data.tobytes()


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    c = values.astype(np.float32) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


class VideoWriter:
    """H.264 (yuv420p) + AAC in an mp4; audio time 0 is frame 0."""

    def __init__(self, path: Path, fps: float, width: int, height: int, audio_wav: bytes):
        import av
        self._container = av.open(str(path), mode="w")
        rate = Fraction(fps).limit_denominator(1001)
        self._video = self._container.add_stream("libx264", rate=rate)
        self._video.width, self._video.height, self._video.pix_fmt = width, height, "yuv420p"
        self._video.options = {"crf": str(VIDEO_CRF), "preset": "veryfast"}
        self._frames = 0
        self._write_audio(audio_wav)       # first: the muxer then interleaves without holding video

    def _write_audio(self, audio_wav: bytes) -> None:
        import av
        with wave.open(io.BytesIO(audio_wav)) as wav:
            rate, samples = wav.getframerate(), np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        stream = self._container.add_stream("aac", rate=AUDIO_RATE)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=AUDIO_RATE)
        for chunk in resampler.resample(frame) + resampler.resample(None):
            self._container.mux(stream.encode(chunk))
        self._container.mux(stream.encode(None))

    def write(self, frames: np.ndarray) -> None:
        import av
        for frame in frames:                # the encoder takes one picture per call
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = self._frames
            self._frames += 1
            self._container.mux(self._video.encode(picture))

    def close(self) -> None:
        self._container.mux(self._video.encode(None))
        self._container.close()

    def abort(self) -> None:
        self._container.close()


class RenderedMedia:
    """Frames still to be rendered; ``write_into`` renders them into a take directory."""

    def __init__(self, renderer, prepared: PreparedPortrait, landmarks_image: np.ndarray, fps: float,
                 audio_wav: bytes, options: RenderOptions, progress: FrameProgress | None = None):
        self.renderer, self.prepared, self.landmarks = renderer, prepared, landmarks_image
        self.fps, self.audio_wav, self.options = fps, audio_wav, options
        self.progress = progress or (lambda done, total: None)

    def write_into(self, directory: Path) -> dict:
        """Render every frame into ``directory``; returns the manifest's additions."""
        fmt, framing = self.options.image_format, self.prepared.framing
        (directory / FRAMES_DIR).mkdir()
        total = len(self.landmarks)
        video = (VideoWriter(directory / VIDEO, self.fps, framing.width, framing.height, self.audio_wav)
                 if self.options.video else None)
        try:
            self._render(directory, video, total)
        except BaseException:
            if video is not None:
                video.abort()
            raise
        if video is not None:
            video.close()
        return {
            "files": {"frames": frame_pattern(fmt), "video": VIDEO if video else None},
            "render": {"renderer": self.renderer.name, "version": self.renderer.version,
                       "size": str(self.options.size), "image_format": fmt, "frame_count": total,
                       "framing": framing.as_manifest()},
        }


    def _render(self, directory: Path, video: VideoWriter | None, total: int) -> None:
        fmt, done = self.options.image_format, 0
        pattern = frame_pattern(fmt)
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            self.progress(0, total)
            for batch in self.renderer.batches(self.prepared, self.landmarks):
                names = [directory / (pattern % (done + i)) for i in range(len(batch))]
                writes = [pool.submit(_write_image, frame, fmt, name) for frame, name in zip(batch, names)]
                if video is not None:
                    video.write(batch)
                for write in writes:
                    write.result()
                done += len(batch)
                self.progress(done, total)


def _write_image(frame: np.ndarray, image_format: str, path: Path) -> None:
    path.write_bytes(encode_image(frame, image_format))
