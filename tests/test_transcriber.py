"""The offline word recogniser on real recordings (the development set, fetched by `make test`)."""
from __future__ import annotations

import pytest

from facecue import transcriber
from facecue.audio import load_audio
from facecue.evaluation import devset
from facecue.phonemes import transcript_words

TEXTS = {c.name: c.transcript for c in devset.CLIPS}


@pytest.fixture(scope="module")
def root():
    return devset.fetch(quiet=True)


@pytest.mark.parametrize("name", ["goforward", "tidigits", "cards4", "beckett"])
def test_short_recordings_are_heard_in_a_short_window(root, name):
    """Clips up to 13 s are encoded in a window fitted to them; their words are the transcript's."""
    samples = load_audio(devset.clip_path(root, name)).samples
    window_s = transcriber.short_window_s(len(samples) / transcriber.SAMPLE_RATE)
    assert window_s < transcriber.FULL_WINDOW_S
    assert transcriber._short_window(transcriber._model(), samples, window_s) is not None
    assert transcript_words(transcriber.transcribe(samples)) == transcript_words(TEXTS[name])


def test_a_window_that_makes_whisper_loop_falls_back_to_the_full_window(root, monkeypatch):
    """Cut to its own length (no silence after it), a short line is repeated until the token
    limit; that decode is refused and the full window's words are used."""
    samples = load_audio(devset.clip_path(root, "cards1")).samples
    assert transcriber._short_window(transcriber._model(), samples, 2) is None
    monkeypatch.setattr(transcriber, "MIN_WINDOW_S", 2)
    monkeypatch.setattr(transcriber, "SHORT_TAIL_S", 0.0)
    monkeypatch.setattr(transcriber, "WINDOW_STEP_S", 1)
    assert transcriber.short_window_s(len(samples) / transcriber.SAMPLE_RATE) == 2
    assert transcript_words(transcriber.transcribe(samples)) == transcript_words(TEXTS["cards1"])


def test_the_full_window_hears_the_bilabials_of_a_long_recording(root):
    """chan3 (21 s, meeting speech) takes the full window; int8 decoding heard its "bleep" as
    "believe" on some CPUs, losing a bilabial, where float32 hears it."""
    samples = load_audio(devset.clip_path(root, "chan3")).samples
    assert transcriber.short_window_s(len(samples) / transcriber.SAMPLE_RATE) == transcriber.FULL_WINDOW_S
    assert "bleep" in transcript_words(transcriber.transcribe(samples))
