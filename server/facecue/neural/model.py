"""The networks (paper Eq. 1–7).

One audio CNN, shared, codes the speech; each sequentializer turns the codes into one cue stream:
  audio code   a_t = CNN(MFCC window around frame t)                       (Eq. 1)
  context      c_t = BiLSTM(a_1 … a_F)_t                                   the light backbone
  cue code     p_t = MLP(cue_{t−1})                                        auto-regression
  emotion      e_t = E[neutral] + Σ_k m_{t,k} (E[k] − E[neutral])         learned 8-way embedding,
                                                                           m = intensity × emotion mix
  decoder      h_t = LSTM([c_t, p_t, e_t], h_{t−1});  cue_t = W h_t        (Eq. 2–3)
The gaze sequentializer's output is S·S logits over joint classes v = u_left + S·u_right
(Eq. 3–5); the collaborative emotion classifier reads [h^lm_t, h^pose_t, h^gaze_t] (Eq. 6).
Eq. 7: L = λ_lm L1_y(landmarks) + λ_pose L1(pose) + λ_gaze CE(gaze) + λ_emo CE(emotion), the
landmark L1 weighting the vertical axis (mouth opening) and the lip points higher.

Training decodes with the true previous cues (teacher forcing, with noise) in one fused
LSTM call; ``inference`` steps the same weights one frame at a time.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .. import gaze
from ..audio import MFCC_DIMS
from ..names import EMOTIONS
from .config import ModelConfig, TrainConfig
from .representation import LIP_ROWS

START_GAZE = -1     # the joint gaze "class" before a take's first frame: no eye region yet


class AudioEncoder(nn.Module):
    """(N, W, 28) MFCC windows → (N, C) audio codes."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c = cfg.audio_channels
        self.convs = nn.Sequential(
            nn.Conv1d(MFCC_DIMS, c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(c, c, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
        self.out = nn.Linear(c * ((cfg.mfcc_window + 3) // 4), c)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.out(self.convs(windows.transpose(1, 2)).flatten(1))


class Sequentializer(nn.Module):
    def __init__(self, cfg: ModelConfig, cue_dims: int, out_dims: int):
        super().__init__()
        self.backbone = nn.LSTM(cfg.audio_channels, cfg.backbone_hidden, batch_first=True, bidirectional=True)
        self.cue = nn.Sequential(nn.Linear(cue_dims, cfg.cue_embedding), nn.LeakyReLU(0.2),
                                 nn.Linear(cfg.cue_embedding, cfg.cue_embedding))
        self.emotions = nn.Embedding(len(EMOTIONS), cfg.emotion_embedding)
        self.decoder = nn.LSTM(2 * cfg.backbone_hidden + cfg.cue_embedding + cfg.emotion_embedding,
                               cfg.decoder_hidden, batch_first=True)
        self.head = nn.Linear(cfg.decoder_hidden, out_dims)
        self.context_dims = 2 * cfg.backbone_hidden

    def context(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, F, C) audio codes → (B, F, 2·hidden): read in both directions."""
        return self.backbone(codes)[0]

    def emotion(self, mix: torch.Tensor) -> torch.Tensor:
        """(B, F, 8) intensity-scaled emotion mix → (B, F, E) conditioning."""
        table = self.emotions.weight
        return table[0] + mix @ (table - table[0])

    def forward(self, codes, previous, mix):
        """Teacher-forced: (B, F, …) inputs → (outputs (B, F, out), decoder states (B, F, H))."""
        inputs = torch.cat([self.context(codes), self.cue(previous), self.emotion(mix)], -1)
        hidden = self.decoder(inputs)[0]
        return self.head(hidden), hidden


class CueModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        s = cfg.gaze_regions
        self.audio = AudioEncoder(cfg)
        self.landmarks = Sequentializer(cfg, 3 * cfg.landmark_points, 3 * cfg.landmark_points)
        self.pose = Sequentializer(cfg, 6, 6)
        self.gaze = Sequentializer(cfg, 2 * s, s * s)
        self.classifier = nn.Sequential(nn.Linear(3 * cfg.decoder_hidden, 128), nn.LeakyReLU(0.2),
                                        nn.Linear(128, len(EMOTIONS)))

    def gaze_input(self, joint: torch.Tensor) -> torch.Tensor:
        """(…) joint classes → (…, 2S) one-hot per eye: the gaze cue fed back. ``START_GAZE``
        (before a take's first frame) is all zeros."""
        s = self.cfg.gaze_regions
        regions = torch.arange(s, device=joint.device)          # compared, not one_hot: no host sync
        known = (joint >= 0).unsqueeze(-1)
        joint = joint.clamp(min=0).unsqueeze(-1)
        return (torch.cat([joint % s == regions, joint // s == regions], -1) & known).float()

    @staticmethod
    def start_gaze_for(cfg: ModelConfig) -> int:
        """The gaze cue before a take's first frame, for a model of this config."""
        return START_GAZE if cfg.gaze_start == "drawn" else gaze.FORWARD * (1 + cfg.gaze_regions)

    def audio_codes(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, F, W, 28) MFCC windows → (B, F, C)."""
        b, f = windows.shape[:2]
        return self.audio(windows.reshape(b * f, *windows.shape[2:])).reshape(b, f, -1)

    def forward(self, windows, mix, previous_landmarks, previous_pose, previous_gaze):
        codes = self.audio_codes(windows)
        landmarks, h_lm = self.landmarks(codes, previous_landmarks.flatten(2), mix)
        pose, h_pose = self.pose(codes, previous_pose, mix)
        gaze, h_gaze = self.gaze(codes, self.gaze_input(previous_gaze), mix)
        emotion = self.classifier(torch.cat([h_lm, h_pose, h_gaze], -1))
        return {"landmarks": landmarks.reshape(previous_landmarks.shape), "pose": pose,
                "gaze": gaze, "emotion": emotion}


def loss(outputs: dict, targets: dict, cfg: TrainConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 7 over a batch; also each term, for logs."""
    device = outputs["landmarks"].device
    axis_weight = torch.tensor([1.0, cfg.y_weight, 1.0], device=device)
    point_weight = torch.ones(outputs["landmarks"].shape[-2], 1, device=device)
    point_weight[torch.as_tensor(LIP_ROWS, device=device)] = cfg.lip_weight
    terms = {
        "landmarks": ((outputs["landmarks"] - targets["landmarks"]).abs() * axis_weight * point_weight).mean(),
        "pose": (outputs["pose"] - targets["pose"]).abs().mean(),
        "gaze": F.cross_entropy(outputs["gaze"].flatten(0, 1), targets["gaze"].flatten()),
        "emotion": F.cross_entropy(outputs["emotion"].flatten(0, 1), targets["emotion"].flatten()),
    }
    weights = {"landmarks": cfg.landmark_weight, "pose": cfg.pose_weight, "gaze": cfg.gaze_weight,
               "emotion": cfg.emotion_weight}
    total = sum(weights[k] * v for k, v in terms.items())
    return total, {k: float(v.detach()) for k, v in terms.items()}
