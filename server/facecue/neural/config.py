"""The cue model's hyper-parameters and the training recipe, as typed dataclasses.

A checkpoint stores its ModelConfig; the model is rebuilt from it, so a checkpoint trained
with other sizes loads without code changes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import InvalidInput


@dataclass(frozen=True)
class ModelConfig:
    fps: float = 30.0                 # the model's native frame rate
    mfcc_window: int = 16             # MFCC frames (10 ms each) centred on every video frame
    audio_channels: int = 64          # audio CNN width and per-frame audio code
    backbone_hidden: int = 64         # Bi-LSTM units per direction
    cue_embedding: int = 64           # previous-cue MLP output
    emotion_embedding: int = 16
    decoder_hidden: int = 128         # auto-regressive LSTM
    landmark_points: int = 147        # the normalized subset (topology.subset_147)
    gaze_regions: int = 10            # S per eye; S·S joint classes
    window_frames: int = 96           # Bi-LSTM context per inference window …
    overlap_frames: int = 32          # … and the overlap cross-faded between windows
    feature_norm: str = "utterance"   # "utterance": each recording normalized over its own speech
                                      # first (see features); "corpus": the corpus statistics only
    gaze_start: str = "drawn"         # "drawn": the gaze decoder starts from an empty cue and draws
                                      # the first regions itself (a take may open looking down);
                                      # "forward": it starts from both eyes forward

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        values = {"feature_norm": "corpus", "gaze_start": "forward", **values}   # checkpoints older than the fields
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(f"checkpoint config has unknown fields {', '.join(unknown)}")
        if values["feature_norm"] not in ("corpus", "utterance"):
            raise InvalidInput(f"checkpoint config has unknown feature_norm '{values['feature_norm']}'")
        if values["gaze_start"] not in ("drawn", "forward"):
            raise InvalidInput(f"checkpoint config has unknown gaze_start '{values['gaze_start']}'")
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    steps: int = 6000
    batch: int = 32
    sequence_frames: int = 72         # 2.4 s per training sequence
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    landmark_weight: float = 1.0      # λ of Eq. 7, per term
    pose_weight: float = 1.0
    gaze_weight: float = 0.2
    emotion_weight: float = 0.1
    y_weight: float = 2.0             # the landmark L1 counts vertical error this much more …
    lip_weight: float = 3.0           # … and the 40 lip points this much more: they carry the speech
    cue_noise: float = 0.15           # on the previous cues fed back: decoding must lean on the audio
                                      # and survive its own errors
    validation_fraction: float = 0.05
    threads: int = 0                  # torch CPU threads; 0 = torch's default
