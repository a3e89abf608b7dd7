"""Phone timing of speech with pocketsphinx (offline, en-US model shipped in its wheel).

With a transcript: pocketsphinx forced alignment. Without one: the words are recognised
(``transcriber``: Whisper tiny.en, offline) and force-aligned the same way; without the
recogniser's packages, pocketsphinx's all-phone loop (fewer bilabials found: bench/lipsync.py).
When forced alignment finds no path (e.g. on synthetic or noisy speech) the text's dictionary
phones are aligned to the recognised phones by dynamic programming instead.
"""
from __future__ import annotations

import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .audio import FEATURE_RATE, HOP, SAMPLE_RATE, Audio

SILENCE = "SIL"


@dataclass(frozen=True)
class PhoneSegments:
    phones: tuple[str, ...]      # ARPAbet without stress digits, or SIL
    start_s: np.ndarray          # (P,) float64
    end_s: np.ndarray            # (P,) float64
    method: str                  # "recognition" | "alignment" | "transcript-dp"

    def __len__(self) -> int:
        return len(self.phones)


_lock = threading.Lock()   # one decoder configuration at a time; decoding is fast


def _model_dir() -> Path:
    from pocketsphinx import get_model_path
    return Path(get_model_path()) / "en-us"


def _pcm(audio: Audio) -> bytes:
    peak = float(np.abs(audio.samples).max()) or 1.0
    return (audio.samples / peak * 0.7 * 32767).astype("<i2").tobytes()


class PhoneLoop:
    """A phone-loop recogniser with a decoder of its own.

    pocketsphinx carries state from one utterance to the next (even with batch CMN and noise
    removal off), so a shared decoder's phones depended on what it had heard before — on
    other takes made in the same process. A take gets a fresh loop (a live stream, its own
    ``LivePhones``), so its phones depend on its own audio alone."""

    def __init__(self):
        self._decoder = _phone_loop_decoder()

    def recognise(self, audio: Audio) -> PhoneSegments:
        with _lock:
            self._decoder.start_utt()
            self._decoder.process_raw(_pcm(audio), full_utt=True)
            self._decoder.end_utt()
            segs = _raw_segments(self._decoder)
        return _segments(segs, "recognition")


class LivePhones:
    """Phone-loop recognition of a live stream, decoded once, chunk by chunk, as it arrives.

    Re-recognising a sliding window costs about 60 ms per window; decoding each chunk as it
    comes costs about 2 ms per 40 ms of audio. ``segments`` reads the decoder's best path so
    far (its last tenth of a second may still change). The utterance is closed and a new one
    begun in a pause once it is long, and always after ``MAX_UTTERANCE_S``, so the decoder's
    memory and the path's length stay bounded on streams of any length; segments that ended
    long ago are dropped."""

    PAUSE_S = 0.3                # a silence this long ends a long utterance
    LONG_UTTERANCE_S = 20.0
    MAX_UTTERANCE_S = 60.0
    KEEP_S = 10.0                # closed segments kept for windows that reach back this far

    def __init__(self):
        self._decoder = _phone_loop_decoder()
        self._closed: list[tuple[str, float, float]] = []       # (phone, start s, end s) in stream time
        self._utterance_start_s = 0.0
        self._heard_s = 0.0
        self._open = False

    def feed(self, samples: np.ndarray) -> None:
        """Decode 16 kHz float samples (full scale ±1) that follow the ones fed before."""
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        with _lock:
            if not self._open:
                self._decoder.start_utt()
                self._open, self._utterance_start_s = True, self._heard_s
            self._decoder.process_raw(pcm, full_utt=False)
        self._heard_s += len(samples) / SAMPLE_RATE
        if self._should_close():
            self._close()

    def segments(self, start_s: float) -> PhoneSegments:
        """Phones that end after ``start_s``, timed from ``start_s``."""
        segs = [seg for seg in self._closed + self._open_segments() if seg[2] > start_s]
        phones = tuple(p for p, _, _ in segs)
        start = np.array([max(s, start_s) for _, s, _ in segs], np.float64) - start_s
        end = np.array([e for _, _, e in segs], np.float64) - start_s
        return PhoneSegments(phones, start, end, "recognition, live")

    def _open_segments(self) -> list[tuple[str, float, float]]:
        return self._decoded() if self._open else []

    def _decoded(self) -> list[tuple[str, float, float]]:
        """The decoder's best path (partial while the utterance is open) in stream seconds."""
        with _lock:
            decoded = _segments(_raw_segments(self._decoder), "recognition, live")
        start = self._utterance_start_s
        return list(zip(decoded.phones, (decoded.start_s + start).tolist(), (decoded.end_s + start).tolist()))

    def _should_close(self) -> bool:
        length = self._heard_s - self._utterance_start_s
        if length >= self.MAX_UTTERANCE_S:
            return True
        if length < self.LONG_UTTERANCE_S:
            return False
        last = self._open_segments()[-1:]
        return bool(last) and last[0][0] == SILENCE and last[0][2] - last[0][1] >= self.PAUSE_S

    def _close(self) -> None:
        with _lock:
            self._decoder.end_utt()
        segs = self._decoded()
        self._open = False
        self._closed = [seg for seg in self._closed + segs if seg[2] > self._heard_s - self.KEEP_S]


def recognise(audio: Audio, loop: PhoneLoop | None = None) -> PhoneSegments:
    """Phones recognised by ``loop``, or by a fresh phone loop (about 0.2 s to load)."""
    return (loop or PhoneLoop()).recognise(audio)


def _phone_loop_decoder():
    """pocketsphinx's all-phone loop over its en-US phone language model."""
    from pocketsphinx import Decoder
    with _dictionary_file("") as words:          # the loop needs no words: skip loading 126k
        return Decoder(allphone=str(_model_dir() / "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                       beam=1e-20, pbeam=1e-20, dict=words, loglevel="FATAL")


def _raw_segments(decoder) -> list[tuple[str, int, int]]:
    """The decoder's best path as ``(name, first frame, last frame)``."""
    return [(s.word, s.start_frame, s.end_frame) for s in decoder.seg() or []]


def _segments(segs: list[tuple[str, int, int]], method: str) -> PhoneSegments:
    phones = tuple(SILENCE if p.startswith(("SIL", "+", "<")) else re.sub(r"\d", "", p)
                   for p, _, _ in segs)
    start = np.array([s for _, s, _ in segs], dtype=np.float64) / FEATURE_RATE
    end = (np.array([e for _, _, e in segs], dtype=np.float64) + 1) / FEATURE_RATE
    return PhoneSegments(phones, start, end, method)


@lru_cache(maxsize=1)
def _pronunciations() -> dict[str, tuple[str, ...]]:
    """pocketsphinx's dictionary: each word's lines, alternative pronunciations included."""
    entries: dict[str, tuple[str, ...]] = {}
    with open(_model_dir() / "cmudict-en-us.dict", encoding="utf-8") as fh:
        for line in fh:
            word = line.split(maxsplit=1)[0].split("(")[0]
            entries[word] = entries.get(word, ()) + (line.rstrip("\n"),)
    return entries


def _dictionary_phones(word: str) -> tuple[str, ...]:
    """The word's first pronunciation, phones without stress digits; () when it is not there.
    (Looked up per word: stripping all 126k entries up front cost 0.7 s per process.)"""
    lines = _pronunciations().get(word)
    return tuple(p.rstrip("012") for p in lines[0].split()[1:]) if lines else ()


@contextmanager
def _dictionary_file(text: str):
    """The path of a dictionary file with only ``text``'s words, for one decoder's construction.

    A decoder loading the whole dictionary takes about 0.2 s; forced alignment makes one per
    piece of speech, which made most of a short clip's phone-timing cost. The search sees
    the same pronunciations, so the alignment is the same."""
    entries = _pronunciations()
    words = dict.fromkeys(word.split("(")[0] for word in text.split())       # "the(2)" → every "the"
    lines = "".join(line + "\n" for word in words for line in entries.get(word, ()))
    with tempfile.TemporaryDirectory(prefix="facecue-dict-") as folder:
        path = Path(folder) / "words.dict"
        path.write_text(lines, encoding="utf-8")
        yield str(path)


def transcript_words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", spell_numbers(text).lower())


def _known_words(text: str) -> str:
    """The words of ``text`` that the pronouncing dictionary has, as one string."""
    return " ".join(w for w in transcript_words(text) if w in _pronunciations())


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
        "sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    rest = n % 1000
    return _number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + _number_words(rest))


def spell_numbers(text: str) -> str:
    """Digits as words, as they are spoken: '10' → 'ten', '1999' → 'one thousand …', and runs
    of five or more digits (codes, phone numbers) digit by digit."""
    def words(match: re.Match) -> str:
        digits = match.group(0).replace(",", "")
        if len(digits) >= 5 or digits.startswith("0") and len(digits) > 1:
            return " ".join(_ONES[int(d)] for d in digits)
        return _number_words(int(digits))
    return re.sub(r"\d[\d,]*\d|\d", words, text)



def transcript_phones(text: str) -> tuple[list[str], list[str]]:
    """Dictionary phones of a transcript and the words the dictionary lacks."""
    phones, missing = [], []
    for word in transcript_words(text):
        found = _dictionary_phones(word)
        if found:
            phones.extend(found)
        else:
            missing.append(word)
    return phones, missing


def align(audio: Audio, transcript: str) -> tuple[PhoneSegments, list[str]]:
    """Phone timing for a transcript; returns the segments and warnings."""
    phones, missing = transcript_phones(transcript)
    warnings = [f"transcript words not in the dictionary (timed from the audio alone): "
                f"{', '.join(sorted(set(missing)))}"] if missing else []
    if not phones:
        return recognise(audio), warnings + ["transcript has no known words; recognising phones"]
    aligned = forced_alignment(audio, _known_words(transcript))
    if aligned is not None:
        return aligned, warnings
    return _dp_align(recognise(audio), phones), warnings


ALIGN_CHUNK_S = 6.0        # phone-level alignment runs on pieces of at most about this length


def forced_alignment(audio: Audio, text: str) -> PhoneSegments | None:
    """Phone timing of a known text: words aligned over the whole utterance, then phones
    within pieces cut at word boundaries (pocketsphinx's phone pass fails on long audio).
    None when the text cannot be aligned to the audio at all."""
    pcm = _pcm(audio)
    with _lock:
        if audio.duration_s <= ALIGN_CHUNK_S:        # short enough for one phone pass
            try:
                return _segments(_align(pcm, text, phones=True), "alignment")
            except RuntimeError:
                pass
        try:
            words = _align(pcm, text, phones=False)
        except RuntimeError:
            return None
        segs = []
        for first, last in _pieces(words):
            spoken = [w for w, _, _ in words[first:last + 1] if not _is_silence(w)]
            if not spoken:
                continue
            offset, stop = words[first][1], words[last][2]
            piece = pcm[offset * _BYTES_PER_FRAME:(stop + 1) * _BYTES_PER_FRAME]
            try:
                found = _align(piece, " ".join(spoken), phones=True)
            except RuntimeError:
                found = _spread_over_words(words[first:last + 1])
                offset = 0
            segs += [(p, s + offset, e + offset) for p, s, e in found]
    return _segments(segs, "alignment") if segs else None


_BYTES_PER_FRAME = 2 * HOP               # 16-bit samples per feature frame


def _is_silence(word: str) -> bool:
    return word.startswith(("<", "[", "+")) or word == SILENCE.lower()


def _align(pcm: bytes, text: str, phones: bool) -> list[tuple[str, int, int]]:
    """Word (or phone) segments ``(name, first frame, last frame)`` of ``text`` in ``pcm``."""
    from pocketsphinx import Decoder
    with _dictionary_file(text) as words:
        decoder = Decoder(lm=None, dict=words, loglevel="FATAL")
    decoder.set_align_text(text)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    if decoder.hyp() is None:
        raise RuntimeError("no alignment path")
    if not phones:
        return _raw_segments(decoder)
    decoder.set_alignment()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return [(p.name, p.start, p.start + p.duration - 1) for word in decoder.get_alignment() for p in word]


def _pieces(words: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Runs of word indices, each ending at a silence (or a word end) once it is long enough."""
    limit = ALIGN_CHUNK_S * FEATURE_RATE
    pieces, first = [], 0
    for i, (word, start, end) in enumerate(words):
        long_enough = end - words[first][1] >= limit
        if i == len(words) - 1 or (long_enough and _is_silence(word)) or end - words[first][1] >= 2 * limit:
            pieces.append((first, i))
            first = i + 1
    return pieces


def _spread_over_words(words: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Dictionary phones spread evenly over each aligned word (when the phone pass fails)."""
    out = []
    for word, start, end in words:
        phones = [SILENCE] if _is_silence(word) else list(_dictionary_phones(re.sub(r"\(\d+\)$", "", word)))
        if not phones:
            continue
        edges = np.linspace(start, end + 1, len(phones) + 1).round().astype(int)
        out += [(p, int(a), int(max(a, b - 1))) for p, a, b in zip(phones, edges[:-1], edges[1:])]
    return out


# Broad phonetic classes: substituting within a class is cheap in the alignment below.
_CLASSES = {
    "vowel": "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW",
    "bilabial": "B M P", "labiodental": "F V", "dental": "DH TH",
    "alveolar": "D L N R S T Z", "postalveolar": "CH JH SH ZH Y", "velar": "G K NG HH W",
}
_CLASS_OF = {p: c for c, ps in _CLASSES.items() for p in ps.split()}


def _dp_align(recognised: PhoneSegments, expected: list[str]) -> PhoneSegments:
    """Needleman–Wunsch of expected phones onto recognised speech segments.

    Expected phones take the timing of the recognised phone they match or substitute;
    runs of inserted expected phones share the time of their neighbours.
    """
    speech = [i for i, p in enumerate(recognised.phones) if p != SILENCE]
    rec = [recognised.phones[i] for i in speech]
    n, m = len(expected), len(rec)
    if m == 0:
        return recognised
    gap = 1.0

    def sub(a: str, b: str) -> float:
        return 0.0 if a == b else (0.5 if _CLASS_OF.get(a) == _CLASS_OF.get(b) else 1.2)

    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1) * gap
    cost[0, :] = np.arange(m + 1) * gap
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + sub(expected[i - 1], rec[j - 1]),
                             cost[i - 1, j] + gap, cost[i, j - 1] + gap)
    anchor = np.full(n, -1)
    i, j = n, m
    while i > 0 and j > 0:
        if np.isclose(cost[i, j], cost[i - 1, j - 1] + sub(expected[i - 1], rec[j - 1])):
            anchor[i - 1] = speech[j - 1]
            i, j = i - 1, j - 1
        elif np.isclose(cost[i, j], cost[i - 1, j] + gap):
            i -= 1
        else:
            j -= 1
    # Unanchored phones: spread evenly between the anchored neighbours.
    starts, ends = np.zeros(n), np.zeros(n)
    known = np.flatnonzero(anchor >= 0)
    starts[known] = recognised.start_s[anchor[known]]
    ends[known] = recognised.end_s[anchor[known]]
    if len(known) == 0:
        return recognised
    idx = np.arange(n)
    mids = np.interp(idx, known, (starts[known] + ends[known]) / 2)
    half = np.interp(idx, known, (ends[known] - starts[known]) / 2)
    starts, ends = np.where(anchor >= 0, starts, mids - half), np.where(anchor >= 0, ends, mids + half)
    return PhoneSegments(tuple(expected), starts, ends, "transcript-dp")


RECOGNISERS = ("auto", "words", "phones")


def phone_timing(audio: Audio, transcript: str | None, recogniser: str = "auto",
                 loop: PhoneLoop | None = None) -> tuple[PhoneSegments, list[str]]:
    """Phone timing from a transcript when given; else from recognised words, force-aligned
    (``words``; ``auto`` when the recogniser's model is installed), else the phone loop
    (``loop``, or a fresh one)."""
    if transcript and transcript.strip():
        return align(audio, transcript)
    from . import transcriber
    if recogniser == "words" or (recogniser == "auto" and transcriber.available()):
        known = _known_words(transcriber.transcribe(audio.samples))
        segments = forced_alignment(audio, known) if known else None
        if segments is None:          # recognised words the audio does not bear out: trust the phones
            return recognise(audio, loop), []
        return PhoneSegments(segments.phones, segments.start_s, segments.end_s, "recognised words, aligned"), []
    return recognise(audio, loop), []
