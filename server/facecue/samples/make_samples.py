"""Make the bundled samples (a development step; the results are shipped).

face.jpg: the astronaut portrait from scikit-image (NASA, public domain), cropped to the head.
speech.wav: espeak-ng reading speech.txt, 16 kHz mono.
face_landmarks.npy: MediaPipe's 478 landmarks of face.jpg (pixels), for machines without
MediaPipe (GPU benchmarks render from them).
Run: ``python -m facecue.samples.make_samples``
"""
from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXT = ("Hello, and welcome. Speak into the microphone, pick a face and a feeling, "
        "and watch the performance come to life.")


def main() -> None:
    from PIL import Image
    from skimage import data
    Image.fromarray(data.astronaut()[0:384, 64:448]).save(HERE / "face.jpg", quality=92)
    (HERE / "speech.txt").write_text(TEXT + "\n")
    raw = HERE / "speech.raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), TEXT], check=True)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-ar", "16000", "-ac", "1",
                    str(HERE / "speech.wav")], check=True)
    raw.unlink()
    import numpy as np

    from facecue.pipeline import Pipeline
    reference = Pipeline().analyze_photo(HERE / "face.jpg")
    np.save(HERE / "face_landmarks.npy", reference.landmarks_image.astype(np.float32))


if __name__ == "__main__":
    main()
