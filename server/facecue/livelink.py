"""Live Link Face over UDP: a take played to Unreal's stock Live Link Face source.

Each packet is one frame, big-endian, as the Live Link Face app sends it (packet version 6):

    uint8   version (6)
    int32   length, then the device id (UTF-8)
    int32   length, then the subject name (UTF-8)
    int32   frame number, float32 sub-frame, int32 frame-rate numerator, int32 denominator
    uint8   value count (61)
    float32 × 61: the 52 ARKit blendshapes (Live Link Face's order = the take's), then
            HeadYaw, HeadPitch, HeadRoll, LeftEyeYaw, LeftEyePitch, LeftEyeRoll,
            RightEyeYaw, RightEyePitch, RightEyeRoll in radians

Pure numpy + sockets: safe in any host. Frames are sent on an absolute schedule
(start + i / fps), so timing errors never accumulate.
"""
from __future__ import annotations

import socket
import struct
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .names import ARKIT_NAMES

VERSION = 6
DEFAULT_PORT = 11111
ROTATION_NAMES = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                  "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
CHANNELS = tuple(name[0].upper() + name[1:] for name in ARKIT_NAMES) + ROTATION_NAMES
_TIME = struct.Struct(">ifii")


def default_device_id() -> str:
    """This machine's sender id in the app's form (an uppercase UUID, as iOS writes
    identifierForVendor): stable across runs, so Unreal keeps one source per machine."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"facecue.{socket.gethostname()}")).upper()


@dataclass(frozen=True)
class LiveLinkFrame:
    device_id: str
    subject: str
    frame: int
    sub_frame: float
    rate: tuple[int, int]
    values: np.ndarray            # (61,) float32


def encode(values: np.ndarray, frame: int, rate: tuple[int, int], subject: str = "FaceCue",
           device_id: str | None = None) -> bytes:
    device_id = device_id or default_device_id()
    values = np.asarray(values, ">f4")
    if values.shape != (len(CHANNELS),):
        raise ValueError(f"a Live Link Face frame has {len(CHANNELS)} values, got {values.shape}")
    device, name = device_id.encode(), subject.encode()
    return b"".join([bytes([VERSION]), struct.pack(">i", len(device)), device, struct.pack(">i", len(name)), name,
                     _TIME.pack(frame, 0.0, rate[0], rate[1]), bytes([len(CHANNELS)]), values.tobytes()])


def decode(packet: bytes) -> LiveLinkFrame:
    if not packet or packet[0] != VERSION:
        raise ValueError("not a Live Link Face packet (version 6)")
    offset = 1
    texts = []
    for _ in range(2):
        (length,) = struct.unpack_from(">i", packet, offset)
        texts.append(packet[offset + 4: offset + 4 + length].decode())
        offset += 4 + length
    frame, sub_frame, numerator, denominator = _TIME.unpack_from(packet, offset)
    offset += _TIME.size
    count = packet[offset]
    values = np.frombuffer(packet, ">f4", count, offset + 1).astype(np.float32)
    return LiveLinkFrame(texts[0], texts[1], frame, sub_frame, (numerator, denominator), values)


def take_values(take) -> np.ndarray:
    """(F, 61) float32: the take's blendshapes, head and eye rotations (radians)."""
    head = np.deg2rad(take.pose[:, :3])                      # yaw, pitch, roll
    eyes = np.deg2rad(take.gaze_angles)                      # (F, 2 eyes (left, right), yaw/pitch)
    rolls = np.zeros((len(head), 1), np.float32)
    return np.concatenate([take.blendshapes, head, eyes[:, 0], rolls, eyes[:, 1], rolls], 1).astype(np.float32)


def frame_rate(fps: float) -> tuple[int, int]:
    rate = Fraction(fps).limit_denominator(1001)
    return rate.numerator, rate.denominator


@dataclass
class SendReport:
    frames: int
    fps: float
    sent_at: list[float] = field(default_factory=list)     # seconds after the first frame

    def jitter_ms(self) -> dict[str, float]:
        """Lateness of each packet against its slot (start + i / fps)."""
        due = np.arange(len(self.sent_at)) / self.fps
        late = (np.asarray(self.sent_at) - due) * 1000
        return {"mean": float(late.mean()), "p50": float(np.percentile(late, 50)),
                "p95": float(np.percentile(late, 95)), "max": float(late.max())}


def send_take(take, target: tuple[str, int], *, subject: str = "FaceCue", device_id: str | None = None,
              fps: float | None = None, stop=None) -> SendReport:
    """Play ``take`` to ``target`` in real time; ``stop`` (a threading.Event) ends it early."""
    fps = float(fps or take.fps)
    values, rate = take_values(take), frame_rate(fps)
    device_id = device_id or default_device_id()
    packets = [encode(v, i, rate, subject, device_id) for i, v in enumerate(values)]
    report = SendReport(frames=len(packets), fps=fps)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        start = time.perf_counter()
        for index, packet in enumerate(packets):
            if stop is not None and stop.is_set():
                break
            _sleep_until(start + index / fps)
            sock.sendto(packet, target)
            report.sent_at.append(time.perf_counter() - start)
    return report


def _sleep_until(deadline: float) -> None:
    """Sleep most of the way, then spin the last millisecond: sleep alone overshoots."""
    remaining = deadline - time.perf_counter()
    if remaining > 0.002:
        time.sleep(remaining - 0.001)
    while time.perf_counter() < deadline:
        pass


def parse_target(text: str) -> tuple[str, int]:
    from .errors import InvalidInput
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"Live Link target '{text}' should look like host:port (e.g. 127.0.0.1:{DEFAULT_PORT})")
    return host, int(port)
