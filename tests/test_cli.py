"""The command line as a user runs it: a subprocess, its exit code and its output."""
import os
import subprocess
import sys

import pytest

from facecue import take as take_io


def facecue(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "facecue.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_generate_writes_a_take_and_says_where(assets, tmp_path):
    out = tmp_path / "take"
    result = facecue("generate", "--audio", assets / "speech.wav", "--image", assets / "face.png",
                     "--emotion", "happy", "--fps", "24", "--size", "256", "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote take {out}" in result.stdout
    take = take_io.load(out)
    assert take.manifest["fps"] == 24.0 and take.manifest["emotion"] == "happy"
    assert len(take.media.images) == take.frame_count and (out / "take.mp4").is_file()     # rendered by default


@pytest.mark.parametrize("args,message", [
    (["--emotion", "elated"], "unknown emotion 'elated'"),
    (["--fps", "0"], "below the supported 1"),
    (["--image", "{blank}"], "no face found in photo 'blank.png'"),
    (["--audio", "{missing}"], "audio file"),
    (["--max-audio-seconds", "1"], "the limit is 1 s"),
])
def test_bad_input_is_one_line_and_nonzero(assets, tmp_path, args, message):
    args = [a.format(blank=assets / "blank.png", missing=tmp_path / "missing.wav") for a in args]
    options = {"--audio": assets / "speech.wav", "--image": assets / "face.png", **dict(zip(args[::2], args[1::2]))}
    result = facecue("generate", *[x for pair in options.items() for x in pair], "--out", tmp_path / "take")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("facecue: error: ") and message in lines[-1]
    assert not (tmp_path / "take").exists() and not list(tmp_path.glob(".take*"))


def test_existing_output_is_refused(assets, tmp_path):
    (tmp_path / "take").mkdir()
    result = facecue("generate", "--audio", assets / "speech.wav", "--image", assets / "face.png",
                     "--out", tmp_path / "take")
    assert result.returncode == 2 and "already exists" in result.stderr


def test_describe_lists_the_vocabulary():
    result = facecue("describe")
    assert result.returncode == 0 and '"jawOpen"' in result.stdout and '"surprised"' in result.stdout


def test_corpus_without_its_speech_engine_names_the_packages(tmp_path):
    # An empty PATH hides flite and festival's text2wave, as on a machine without them.
    result = subprocess.run([sys.executable, "-m", "facecue.cli", "corpus", "--out", str(tmp_path / "c"),
                             "--voices", "flite+festival", "--clips", "2"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": ""})
    assert result.returncode == 2
    assert "flite is not installed (apt-get install flite)" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "c").exists()
