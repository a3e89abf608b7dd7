"""Shared fixtures: real speech (espeak-ng), a real photo (scikit-image's astronaut),
one pipeline per session and a real server on a loopback port."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

SENTENCE = "Hello there, my name is Paul. We met by the big blue boat, and I am happy to see you."


def speak(path: Path, text: str = SENTENCE, voice: str = "en-us") -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed (make setup installs it)")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return path


@pytest.fixture(scope="session")
def assets(tmp_path_factory) -> Path:
    from PIL import Image
    from skimage import data
    root = tmp_path_factory.mktemp("assets")
    speak(root / "speech.wav")
    Image.fromarray(data.astronaut()).save(root / "face.png")
    Image.fromarray(np.full((256, 256, 3), 127, np.uint8)).save(root / "blank.png")
    return root


@pytest.fixture(scope="session")
def pipeline():
    from facecue.pipeline import Pipeline
    return Pipeline()


@pytest.fixture(scope="session")
def happy_take(pipeline, assets):
    from facecue.config import TakeRequest
    return pipeline.run(TakeRequest(audio=assets / "speech.wav", image=assets / "face.png",
                                    emotion="happy", fps=30.0, seed=7))


@pytest.fixture(scope="session")
def server(pipeline, tmp_path_factory, assets):
    from facecue.config import Limits
    from facecue.server import ServerConfig, build_server
    store = tmp_path_factory.mktemp("store")
    config = ServerConfig(port=0, store=store, storage_roots=(assets,), workers=4,
                          limits=Limits(max_audio_s=20.0))
    pipeline.limits = config.limits
    grpc_server, port = build_server(config, pipeline)
    grpc_server.start()
    yield {"address": f"127.0.0.1:{port}", "store": store, "config": config}
    grpc_server.stop(grace=1).wait()
    pipeline.limits = Limits()


@pytest.fixture()
def client(server):
    from facecue.client import FaceCueClient
    with FaceCueClient(server["address"], timeout_s=120) as c:
        yield c
