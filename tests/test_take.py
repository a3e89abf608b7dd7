import numpy as np
import pytest

from facecue import take as take_io
from facecue.errors import CorruptTake, OutputExists


def test_round_trip(happy_take, tmp_path):
    out = take_io.write(happy_take, tmp_path / "take")
    loaded = take_io.load(out)
    for name, array in happy_take.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array)
    assert loaded.audio_wav == happy_take.audio_wav and loaded.audio_wav[:4] == b"RIFF"
    assert loaded.manifest["files"] == {"cues": "cues.npz", "audio": "audio.wav", "photo": "photo.jpg",
                                        "frames": None, "video": None}
    assert loaded.photo == happy_take.photo
    assert [p.name for p in tmp_path.iterdir()] == ["take"], "no staging directory left behind"


def test_existing_output_is_kept_unless_overwrite(happy_take, tmp_path):
    out = tmp_path / "take"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(OutputExists, match="already exists"):
        take_io.write(happy_take, out)
    assert (out / "precious.txt").read_text() == "keep me"
    take_io.write(happy_take, out, overwrite=True)
    assert not (out / "precious.txt").exists() and (out / "manifest.json").exists()


def test_invalid_take_is_never_written(happy_take, tmp_path):
    broken = take_io.Take(dict(happy_take.manifest), dict(happy_take.arrays), happy_take.audio_wav)
    broken.arrays["pose"] = broken.arrays["pose"][:-1]
    with pytest.raises(CorruptTake, match="pose"):
        take_io.write(broken, tmp_path / "take")
    assert not any(tmp_path.iterdir())


def test_damaged_takes_are_reported(happy_take, tmp_path):
    out = take_io.write(happy_take, tmp_path / "take")
    (out / "cues.npz").write_bytes((out / "cues.npz").read_bytes()[:1000])
    with pytest.raises(CorruptTake):
        take_io.load(out)
    with pytest.raises(CorruptTake, match="manifest.json is missing"):
        take_io.load(tmp_path)


def test_the_take_keeps_its_photo_for_texturing(happy_take, assets):
    """photo.jpg is the reference photo (downscaled when huge): landmarks_image / size lands on it."""
    import io

    from PIL import Image

    from facecue.reference import PHOTO_KEPT_EDGE, photo_for_take, read_image
    rgb, _ = read_image(assets / "face.png")
    kept = np.asarray(Image.open(io.BytesIO(happy_take.photo)).convert("RGB"), np.float32)
    assert kept.shape == rgb.shape and np.abs(kept - rgb).mean() < 3.0
    huge = np.zeros((3000, 4500, 3), np.uint8)
    assert Image.open(io.BytesIO(photo_for_take(huge))).size == (PHOTO_KEPT_EDGE, round(3000 * PHOTO_KEPT_EDGE / 4500))
