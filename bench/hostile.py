"""Hostile inputs against the command line and the server: exit status, message, time and
peak memory of each, side by side with an ordinary take.

    python bench/hostile.py [--skip-server]

Every CLI row runs ``facecue generate`` in a fresh process (its own peak RSS). The server
rows send the same inputs to one server over loopback and read its peak RSS (VmHWM) after
each, so a row's figure is the server's peak so far.
"""
from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "facecue" / "samples"


def wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    block = 2 * channels
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16) +
            b"data" + struct.pack("<I", data_bytes))


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def make_inputs(folder: Path) -> dict[str, tuple[Path, Path, list[str]]]:
    """name → (audio, photo, extra CLI arguments)."""
    speech, face = SAMPLES / "speech.wav", SAMPLES / "face.jpg"
    (folder / "one_hz.wav").write_bytes(wav_header(1, 1, 96_000) + bytes(96_000))
    with sf.SoundFile(folder / "silence_2h.flac", "w", 16000, 1, format="FLAC") as flac:
        for _ in range(120):
            flac.write(np.zeros(16000 * 60, np.int16))
    with open(folder / "sparse_2gb.wav", "wb") as fh:
        fh.write(wav_header(16000, 1, 2**31 - 64))
        fh.truncate(2**31)
    looped = folder / "looped.wav"
    audio, rate = sf.read(speech, dtype="int16")
    sf.write(looped, np.tile(audio, int(700 * rate / len(audio)) + 1), rate)
    with open(folder / "no_length_700s.webm", "wb") as out:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(looped), "-c:a", "libopus", "-b:a", "16k",
                        "-f", "webm", "pipe:1"], stdout=out, check=True)
    (folder / "huge_400mp.png").write_bytes(png_header_only(20000, 20000))
    os.mkfifo(folder / "fifo.wav")
    (folder / "transcript_1mb.txt").write_text("word " * 200_000)
    return {
        "ordinary take (sample)": (speech, face, []),
        "WAV header says 1 Hz (96 KB)": (folder / "one_hz.wav", face, []),
        "FLAC, 2 h of silence (1 MB)": (folder / "silence_2h.flac", face, []),
        "sparse WAV, 2 GB": (folder / "sparse_2gb.wav", face, []),
        "WebM, no length in header, 700 s": (folder / "no_length_700s.webm", face, []),
        "PNG header says 20000×20000": (speech, folder / "huge_400mp.png", []),
        "FIFO as the audio": (folder / "fifo.wav", face, []),
        "folder as the audio": (folder, face, []),
        "1 MB transcript": (speech, face, ["--transcript", f"@{folder / 'transcript_1mb.txt'}"]),
    }


# Prepended to a child's code: it reports its own peak RSS on stderr as it exits (SystemExit too).
PEAK_REPORTER = ("import atexit, sys\natexit.register(lambda: print('VmHWM', next(line for line in "
                 "open('/proc/self/status') if line.startswith('VmHWM')).split()[1], file=sys.stderr))\n")


def peak_mb(stderr: str) -> float:
    """The peak a child with PEAK_REPORTER reported, in MB."""
    return next(int(line.split()[1]) for line in stderr.splitlines() if line.startswith("VmHWM")) / 1024


def run_cli(audio: Path, photo: Path, extra: list[str], out: Path) -> tuple[int, str, float, float]:
    """``facecue generate`` in a fresh interpreter that reports its own peak RSS (VmHWM) as it
    exits: a forked child's rusage would also count the memory of the process that forked it."""
    arguments = ["generate", "--audio", str(audio), "--image", str(photo), "--out", str(out), "--overwrite", *extra]
    launcher = (PEAK_REPORTER + "import runpy\n"
                f"sys.argv = ['facecue'] + {arguments!r}\nrunpy.run_module('facecue.cli', run_name='__main__')\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", launcher], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    seconds = time.perf_counter() - start
    said = [line for line in done.stderr.splitlines() if line.startswith("facecue:")]
    return done.returncode, (said[-1] if said else "")[len("facecue: "):], seconds, peak_mb(done.stderr)


def server_rows(inputs, folder: Path) -> list[tuple[str, str, float, float]]:
    from facecue.client import FaceCueClient, FaceCueClientError
    port = 50000 + os.getpid() % 10000
    server = subprocess.Popen([sys.executable, "-m", "facecue.cli", "serve", "--port", str(port), "--store",
                               str(folder / "store"), "--storage-root", str(folder), "--storage-root", str(SAMPLES)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    server.stdout.readline()                            # "listening on …"
    rows = []
    try:
        with FaceCueClient(f"127.0.0.1:{port}", timeout_s=600) as client:
            for name, (audio, photo, extra) in inputs.items():
                transcript = Path(extra[1][1:]).read_text() if extra else ""
                start = time.perf_counter()
                try:
                    client.generate(audio, photo, server_paths=True, transcript=transcript)
                    outcome = "OK"
                except FaceCueClientError as err:
                    outcome = str(err)[:100]
                seconds = time.perf_counter() - start
                hwm = next(int(line.split()[1]) for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                           if line.startswith("VmHWM"))
                rows.append((name, outcome, seconds, hwm / 1024))
    finally:
        server.terminate()
        server.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facecue-hostile-"))
    try:
        inputs = make_inputs(folder)
        print(f"{'input':<36} {'exit':>4} {'s':>6} {'peak MB':>8}  message")
        for name, (audio, photo, extra) in inputs.items():
            status, message, seconds, peak = run_cli(audio, photo, extra, folder / "take")
            print(f"{name:<36} {status:>4} {seconds:6.1f} {peak:8.0f}  {message[:100]}", flush=True)
        if not args.skip_server:
            print(f"\nserver (one process, loopback; peak = VmHWM so far)\n{'input':<36} {'s':>6} {'peak MB':>8}  status")
            for name, outcome, seconds, peak in server_rows(inputs, folder):
                print(f"{name:<36} {seconds:6.1f} {peak:8.0f}  {outcome}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
