"""The paper's cue model: landmark, pose and gaze sequentializers with a collaborative emotion
classifier (PyTorch), its training, evaluation, checkpoints and the ``neural`` backend.

Modules: ``config`` (hyper-parameters as dataclasses), ``representation`` (cues ↔ the
normalized training space), ``features`` (MFCC windows per frame), ``model`` (the networks and
Eq. 7), ``inference`` (auto-regressive decoding, batched over takes), ``checkpoint`` (files),
``training``, ``evaluation``, ``backend``.
"""
