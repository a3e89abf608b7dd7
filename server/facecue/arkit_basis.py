"""ARKit-52 deformation basis over the MediaPipe topology of one face.

``build_basis(neutral)`` returns (52, 478, 3) displacements in cm: the face of frame n is
``neutral + Σ_k w[n, k] · basis[k]``. Each shape is a handful of handle displacements on
named landmarks (lips, lids, brows, cheeks), spread to their neighbours by Gaussian falloff
and kept on the right side of the mouth and eye openings; the jaw is a rotation about the
jaw joint. Amounts are set for an average adult face and scale with the face's size.
Gaze shapes (eyeLook*) only drop or lift the lids a little: the eyes themselves turn in
relocation. tongueOut has no landmarks and stays zero.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import topology as topo
from .names import ARKIT_INDEX, ARKIT_NAMES

_CANONICAL_HEIGHT_CM = 17.7   # forehead (10) to chin (152) on the canonical face
_SIDES = {"left": 1.0, "right": -1.0}   # subject's left is +x (the viewer's right)
SMILE_DEPTH_WEIGHT = 0.3      # how much depth counts in the smile's falloff (see mouthSmile)


class _Face:
    """Measurements of a neutral face that the shapes are built from."""

    def __init__(self, neutral: np.ndarray):
        self.v = neutral.astype(np.float64)
        self.k = np.linalg.norm(self.v[topo.FOREHEAD] - self.v[topo.CHIN]) / _CANONICAL_HEIGHT_CM
        self.mouth_centre = (self.v[topo.UPPER_LIP_INNER] + self.v[topo.LOWER_LIP_INNER]) / 2

    def side(self, name: str, softness: float = 0.4) -> np.ndarray:
        """Smooth mask of the subject's left or right half."""
        return 1 / (1 + np.exp(-_SIDES[name] * self.v[:, 0] / (softness * self.k)))

    def above_mouth(self) -> np.ndarray:
        """Smooth mask of points of the upper lip and face (1) versus the lower lip and jaw (0)."""
        return _upper_membership()[: len(self.v)]

    def near(self, index: int | np.ndarray, radius_cm: float) -> np.ndarray:
        centre = self.v[index] if np.ndim(index) == 0 else self.v[index].mean(0)
        d2 = np.square(self.v - centre).sum(1)
        return np.exp(-d2 / (2 * (radius_cm * self.k) ** 2))

    def narrow_mouth(self, amount: float) -> np.ndarray:
        """Draw the lips and the skin around them toward the mouth's midline: x → x·(1 − a·g),
        g a Gaussian about the mouth centre (the mouth's half-width across), level over the lips'
        height and falling off over 1.2 cm above and below them.

        One smooth field moves corners, lip contours and the opening together, so none passes
        another (at any height within the lips the field's slope across stays ≥ 1 − a > 0);
        moving the corners alone folded the lips over them, and a rendered frame then showed the
        photo's mouth past its corners. The field used to fall off from the corners' height too:
        lip points above and below them moved less, and a corner that sat only a millimetre
        outside its neighbours (as on a photo whose smile is taken out) passed them."""
        half_width = abs(self.v[topo.MOUTH_CORNER_LEFT, 0] - self.v[topo.MOUTH_CORNER_RIGHT, 0]) / 2
        dx, dy = (self.v[:, :2] - self.mouth_centre[:2]).T
        lips = np.abs(dy[list(topo.LIP_UPPER_OUTER + topo.LIP_LOWER_OUTER)]).max()
        beyond = np.maximum(np.abs(dy) - lips, 0.0)
        g = np.exp(-np.square(dx) / (2 * half_width ** 2) - np.square(beyond) / (2 * (1.2 * self.k) ** 2))
        move = np.zeros_like(self.v)
        move[:, 0] = -amount * g * dx
        return move

    def brow_lift(self, handles: dict[int, tuple[float, float, float]], brow: np.ndarray) -> np.ndarray:
        """A brow raised by its handles: the lid skin below follows over 0.9 cm, the forehead
        above over 2.5 cm, as the frontalis lifts it whole. Followed over 0.9 cm both ways, a
        brow raised a centimetre passed the forehead just above it and the rendered brow folded
        into a zigzag."""
        near, far = self.spread(handles, 0.9), self.spread(handles, 2.5)
        brow_top = _curve(self.v[brow], self.v[:, 0])
        above = 1 / (1 + np.exp(-(self.v[:, 1] - brow_top - 0.3 * self.k) / (0.15 * self.k)))
        above[list(handles)] = 0.0
        return self.lids_held(near + (far - near) * above[:, None])

    def lids_held(self, move: np.ndarray) -> np.ndarray:
        """A brow's move with the lids' margins left where they are, the lid skin between
        taking it up: the lids are the levator's, and a brow that lifted them (0.1–0.25 of the
        eye's opening) held the eye open through a blink."""
        margins = np.array(sorted({i for eye in ("left", "right") for i in topo.LID_UPPER[eye] + topo.LID_LOWER[eye]}))
        d2 = np.square(self.v[:, None, :] - self.v[None, margins, :]).sum(-1)
        return move * (1 - np.exp(-d2 / (2 * (0.25 * self.k) ** 2)).max(1))[:, None]

    def spread(self, handles: dict[int, tuple[float, float, float]], radius_cm: float,
               depth_weight: float = 1.0) -> np.ndarray:
        """Displace handle points by their vectors (cm), neighbours by Gaussian falloff of their
        distance, its depth counted ``depth_weight`` times (1: through the head)."""
        idx = np.array(list(handles))
        disp = np.array(list(handles.values()), dtype=np.float64) * self.k
        offsets = self.v[:, None, :] - self.v[None, idx, :]
        offsets[..., 2] *= depth_weight
        d2 = np.square(offsets).sum(-1)
        phi = np.exp(-d2 / (2 * (radius_cm * self.k) ** 2))
        blend = (phi @ disp) / np.maximum(phi.sum(1, keepdims=True), 1e-9)
        return blend * phi.max(1, keepdims=True)


@lru_cache(maxsize=1)
def _upper_membership() -> np.ndarray:
    """(478,) how fully each landmark belongs above the mouth, read once off the canonical face.

    Membership is topology, not the photo's geometry: on a photo whose lips touch, the upper
    and lower lips sit on the same line and no height threshold can tell them apart.
    """
    canon = topo.canonical_face().astype(np.float64)
    upper, lower = _inner_pairs()
    xs = np.linspace(canon[upper, 0].min(), canon[upper, 0].max(), 32)
    line = np.interp(canon[:, 0], xs, (_curve(canon[upper], xs) + _curve(canon[lower], xs)) / 2)
    member = 1 / (1 + np.exp(-(canon[:, 1] - line) / 0.06))
    member[list(topo.LIP_UPPER_INNER[1:-1]) + list(topo.LIP_UPPER_OUTER[1:-1])] = 1.0
    member[list(topo.LIP_LOWER_INNER) + list(topo.LIP_LOWER_OUTER)] = 0.0
    return np.concatenate([member, np.ones(topo.LANDMARK_COUNT - len(member))])   # irises: above


def _inner_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower inner-lip points that meet when the mouth closes (corners with themselves)."""
    return np.array(topo.LIP_UPPER_INNER), np.array(topo.LIP_LOWER_INNER_WITH_CORNERS)


def _lips_meeting(face: "_Face", upper_move: np.ndarray, lower_move: np.ndarray) -> np.ndarray:
    """(478, 3) displacement moving the inner-lip pairs by ``upper_move`` / ``lower_move``
    (each (11, 3)), exactly on the contour and fading over the lips around it."""
    upper, lower = _inner_pairs()
    above = face.above_mouth()[:, None]
    disp = (face.spread(dict(zip(upper[1:-1].tolist(), upper_move[1:-1] / face.k)), 0.45) * above
            + face.spread(dict(zip(lower[1:-1].tolist(), lower_move[1:-1] / face.k)), 0.45) * (1 - above))
    disp[upper] = upper_move
    disp[lower[1:-1]] = lower_move[1:-1]
    return disp


JAW_SHARE = 0.75     # of a parted photo's lip gap closed by the jaw (as a real mouth closes)


def seal_lips(neutral: np.ndarray) -> np.ndarray:
    """The face with its inner lips brought together in 3D, whatever the photo's mouth was
    doing: the rest face that speech starts from and returns to. Most of a parted gap is
    closed by the jaw (the chin comes up with the lower lip, so the lips keep their
    thickness); the lips meet half-way over the rest, the lips around following."""
    face = _Face(neutral)
    upper, lower = _inner_pairs()
    gap = float(np.mean(face.v[upper[1:-1], 1] - face.v[lower[1:-1], 1]))
    rise_per_degree = float(np.mean(_jaw_rotation(face, -1.0)[lower[1:-1], 1]))
    if gap > 0 and rise_per_degree > 1e-9:
        face.v = face.v + _jaw_rotation(face, -JAW_SHARE * gap / rise_per_degree)
    middle = (face.v[upper] + face.v[lower]) / 2
    sealed = face.v + _lips_meeting(face, middle - face.v[upper], middle - face.v[lower])
    return sealed.astype(np.float32)


def rest_and_basis(neutral: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lips-sealed rest of a neutral face and the basis built on it: where every take's
    motion starts from. Cached per face (read-only arrays): a live stream asks for them at
    every window, and building the basis costs several times a window's other cue work."""
    return _rest_and_basis(np.ascontiguousarray(neutral, np.float32).tobytes())


@lru_cache(maxsize=16)
def _rest_and_basis(neutral_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    rest = seal_lips(np.frombuffer(neutral_bytes, np.float32).reshape(-1, 3))
    basis = build_basis(rest)
    rest.setflags(write=False)
    basis.setflags(write=False)
    return rest, basis


def _curve(points: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Height of a contour (sorted by x) at ``x``."""
    order = np.argsort(points[:, 0])
    return np.interp(x, points[order, 0], points[order, 1])


def _upper_lip_body_share(face: _Face) -> np.ndarray:
    """(478,) the share of a lift of the upper lip's body each point takes: 0 on the lip's inner
    contour, rising to 1 at its outer contour and above. The nose wrinkler lifts the upper lip
    from above and is never let go where the lips seal; lifting their edge as well held sealed
    lips apart (the seal's closing shape follows the jaw and cannot cancel a lift straight up)."""
    x = face.v[:, 0]
    inner = _curve(face.v[list(topo.LIP_UPPER_INNER)], x)
    outer = _curve(face.v[list(topo.LIP_UPPER_OUTER)], x)
    share = np.clip((face.v[:, 1] - inner) / np.maximum(outer - inner, 1e-3 * face.k), 0.0, 1.0)
    share[list(topo.LIP_UPPER_INNER)] = 0.0
    return share


JAW_CORNER_SHARE = 0.45   # of the jaw's motion the mouth corners follow
JAW_LIP_SHARE = 0.85      # … and the middle of the lower lip


def _opening_taper(face: _Face) -> np.ndarray:
    """(478,) 1 − u⁴, u the distance across from the middle between the inner corners ÷ half
    their distance: 1 in the middle, 0 at the corners and beyond. The dev set's open mouths
    (MediaPipe on the photos) part 0.36–0.48, 0.61–0.74, 0.81–0.92 and 0.95–1.00 as far as in
    the middle at the inner-lip pairs from the corner in; this taper gives about as much."""
    right, left = face.v[[topo.LIP_UPPER_INNER[0], topo.LIP_UPPER_INNER[-1]], 0]
    middle, half = (left + right) / 2, abs(left - right) / 2
    u = np.abs(face.v[:, 0] - middle) / max(half, 1e-9)
    return np.clip(1 - u ** 4, 0, 1)


def _jaw_weight(face: _Face) -> np.ndarray:
    """How fully each point follows the jaw: lower lip and chin 1, upper face 0.

    Along the lips the share falls from the lower lip's middle to the corners, and the upper
    lip's inner edge comes down toward the corners with them, as lips joined at the corners
    do: the mouth opens as a lens (its gap ∝ the taper). Every lower-lip point following the
    jaw alike opened it as a hexagon, its ends two wedges."""
    below = 1 - face.above_mouth()
    drop = face.mouth_centre[1] - face.v[:, 1]
    ramp = np.clip(drop / (1.2 * face.k), 0, 1)
    lateral = np.exp(-np.maximum(np.abs(face.v[:, 0]) - 2.5 * face.k, 0) ** 2 / (2 * (2.0 * face.k) ** 2))
    taper = _opening_taper(face)
    weight = below * np.maximum(ramp, JAW_CORNER_SHARE + (JAW_LIP_SHARE - JAW_CORNER_SHARE) * taper) * lateral
    upper_lip = list(topo.LIP_UPPER_INNER[1:-1] + topo.LIP_UPPER_OUTER[1:-1])
    weight[upper_lip] = JAW_CORNER_SHARE * (1 - taper[upper_lip])
    weight[[topo.MOUTH_CORNER_LEFT, topo.MOUTH_CORNER_RIGHT, topo.LIP_UPPER_INNER[0], topo.LIP_UPPER_INNER[-1]]] = JAW_CORNER_SHARE
    return weight


def _jaw_rotation(face: _Face, degrees: float) -> np.ndarray:
    pivot = face.mouth_centre + np.array([0.0, 1.5, -8.5]) * face.k
    a = np.deg2rad(degrees)
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    moved = (face.v - pivot) @ rot.T + pivot
    return (moved - face.v) * _jaw_weight(face)[:, None]


def _lid_shapes(face: _Face, eye: str) -> dict[str, np.ndarray]:
    upper, lower = np.array(topo.LID_UPPER[eye]), np.array(topo.LID_LOWER[eye])
    top, bottom = topo.EYE_LIDS[eye]
    gap = face.v[top, 1] - face.v[bottom, 1]
    centre_y = (face.v[top, 1] + face.v[bottom, 1]) / 2
    ux, uy = face.v[upper, 0], face.v[upper, 1]
    order = np.argsort(ux)
    lid_profile = np.interp(face.v[:, 0], ux[order], uy[order]) - centre_y   # lid height above centre
    region = face.near(np.concatenate([upper, lower]), 0.9)
    is_upper = 1 / (1 + np.exp(-(face.v[:, 1] - centre_y) / (0.05 * face.k)))
    is_upper[upper[[0, -1]]] = 0.0                     # corners stay put
    down = np.zeros_like(face.v)
    down[:, 1] = -np.clip(lid_profile, 0, None) * 0.95 * is_upper * region
    up_lower = np.zeros_like(face.v)
    up_lower[:, 1] = 0.25 * gap * (1 - is_upper) * region
    up_lower[upper[[0, -1]], 1] = 0
    raise_upper = np.zeros_like(face.v)
    raise_upper[:, 1] = 0.5 * gap * is_upper * region
    cheek = face.spread({bottom: (0, 0.1, 0)}, 1.0) * (1 - is_upper)[:, None]
    return {"blink": _closed_lids(face, upper, lower, is_upper, region), "squint": 0.6 * down + 2 * up_lower + cheek,
            "lower_lid_up": 2 * up_lower + cheek,
            "wide": raise_upper, "look_down": 0.25 * down, "look_up": 0.6 * raise_upper}


LOWER_LID_RISE = 0.15     # of the lids' opening closed by the lower lid in a blink; the upper lid does the rest


def _closed_lids(face: _Face, upper: np.ndarray, lower: np.ndarray, is_upper: np.ndarray,
                 region: np.ndarray) -> np.ndarray:
    """The lids brought together along the whole opening: at every x the upper lid comes down
    and the lower lid up until they meet, the lid skin around following. eyeBlink = 1 is a
    closed eye; a lid that stopped short left a dark slit that reads as a squint."""
    x = face.v[:, 0]
    lower_lid = face.v[np.concatenate([upper[[0, -1]], lower])]      # the corners close the lower lid too
    opening = np.clip(_curve(face.v[upper], x) - _curve(lower_lid, x), 0, None)
    close = np.zeros_like(face.v)
    close[:, 1] = opening * (LOWER_LID_RISE * (1 - is_upper) - (1 - LOWER_LID_RISE) * is_upper) * region
    close[upper[1:-1], 1] = -(1 - LOWER_LID_RISE) * opening[upper[1:-1]]     # the lids themselves exactly
    close[lower, 1] = LOWER_LID_RISE * opening[lower]
    close[upper[[0, -1]]] = 0.0
    return close


def build_basis(neutral: np.ndarray) -> np.ndarray:
    """(52, 478, 3) float32 displacements (cm) for a neutral head-local face (478, 3)."""
    face = _Face(neutral)
    shapes: dict[str, np.ndarray] = {}
    above, below = face.above_mouth()[:, None], 1 - face.above_mouth()[:, None]
    jaw = _jaw_weight(face)[:, None]
    lips_upper = np.array(topo.LIP_UPPER_OUTER[1:-1] + topo.LIP_UPPER_INNER[1:-1])
    lips_lower = np.array(topo.LIP_LOWER_OUTER + topo.LIP_LOWER_INNER)
    upper_lip_body = _upper_lip_body_share(face)[:, None]
    mouth = face.near(np.array([topo.MOUTH_CORNER_LEFT, topo.MOUTH_CORNER_RIGHT]), 1.8)[:, None]
    inner = np.array(topo.LIP_UPPER_INNER + topo.LIP_LOWER_INNER)

    # Jaw: open by rotation about the joint; forward and sideways by translation.
    shapes["jawOpen"] = _jaw_rotation(face, 16.0)
    shapes["jawForward"] = jaw * np.array([0, 0, 0.6 * face.k])
    shapes["jawLeft"] = jaw * np.array([0.7 * face.k, 0, 0])
    shapes["jawRight"] = jaw * np.array([-0.7 * face.k, 0, 0])

    # mouthClose brings the lips together against the jaw: with jawOpen = mouthClose the inner
    # lips meet exactly (x, y and z), each moving half-way.
    upper_in, lower_in = _inner_pairs()
    apart = shapes["jawOpen"][lower_in] - shapes["jawOpen"][upper_in]
    shapes["mouthClose"] = _lips_meeting(face, apart / 2, -apart / 2)
    lips = np.concatenate([lips_upper, lips_lower])
    corners = (topo.MOUTH_CORNER_LEFT, topo.MOUTH_CORNER_RIGHT)
    shapes["mouthFunnel"] = (face.spread({i: (0, 0, 0.5) for i in lips}, 0.6) + face.narrow_mouth(0.35)
                             + face.spread({c: (0, 0, 0.2) for c in corners}, 0.6)
                             + face.spread({i: (0, 0.15, 0) for i in lips_upper}, 0.5) * above
                             + face.spread({i: (0, -0.2, 0) for i in lips_lower}, 0.5) * below)
    shapes["mouthPucker"] = (face.spread({i: (0, 0, 0.6) for i in lips}, 0.6) + face.narrow_mouth(0.6)
                             + face.spread({c: (0, 0, 0.3) for c in corners}, 0.7))
    shapes["mouthLeft"] = mouth * np.array([0.6 * face.k, 0, 0])
    shapes["mouthRight"] = mouth * np.array([-0.6 * face.k, 0, 0])
    shapes["mouthRollLower"] = face.spread({i: (0, 0.2, -0.35) for i in lips_lower}, 0.5) * below
    shapes["mouthRollUpper"] = face.spread({i: (0, -0.2, -0.35) for i in lips_upper}, 0.5) * above
    shapes["mouthShrugLower"] = (face.spread({i: (0, 0.3, 0.1) for i in lips_lower}, 0.6)
                                 + face.spread({topo.CHIN: (0, 0.2, 0.15)}, 1.2)) * below
    shapes["mouthShrugUpper"] = face.spread({i: (0, 0.25, 0.05) for i in lips_upper}, 0.6) * above

    for side, sign in _SIDES.items():
        s = side.capitalize()
        corner = topo.MOUTH_CORNER_LEFT if side == "left" else topo.MOUTH_CORNER_RIGHT
        half = face.side(side)[:, None]
        # The smile's pull falls off mostly across the face: the lips beside the corner stand a
        # centimetre in front of it and, measured through the head, followed it a third of the
        # way; with depth ignored it reached the back of the jaw (0.6 mm on the bearded photo).
        shapes[f"mouthSmile{s}"] = face.spread({corner: (sign * 0.9, 1.1, -0.4)}, 1.1, depth_weight=SMILE_DEPTH_WEIGHT)
        # The depressor pulls the corner down and out, and the lower lip's side with it: a
        # corner pulled nearly straight down read as a pucker (0.0–0.8) beside a weaker frown.
        shapes[f"mouthFrown{s}"] = face.spread({corner: (sign * 0.6, -1.0, 0)}, 1.6)
        shapes[f"mouthDimple{s}"] = face.spread({corner: (sign * 0.25, 0, -0.3)}, 0.8)
        shapes[f"mouthStretch{s}"] = face.spread({corner: (sign * 1.2, -0.5, -0.25)}, 1.0)
        press = half * (face.spread({i: (0, -0.15, -0.05) for i in topo.LIP_UPPER_OUTER[1:-1]}, 0.4) * above
                        + face.spread({i: (0, 0.15, -0.05) for i in topo.LIP_LOWER_OUTER}, 0.4) * below)
        press[inner] = 0.0                  # pressed lips thin from outside; where they meet stays
        shapes[f"mouthPress{s}"] = press
        shapes[f"mouthLowerDown{s}"] = half * face.spread({i: (0, -0.35, 0) for i in lips_lower}, 0.5) * below
        shapes[f"mouthUpperUp{s}"] = half * face.spread({i: (0, 0.85, 0) for i in lips_upper}, 0.5) * above

        brow = topo.group(f"{side}_brow")
        reach = np.abs(face.v[brow, 0])
        t = (reach - reach.min()) / max(np.ptp(reach), 1e-6)      # 0 inner … 1 outer
        brow_down = {int(i): (-sign * 0.5 * (1 - ti), -0.9, 0) for i, ti in zip(brow, t)}
        shapes[f"browDown{s}"] = face.lids_held(face.spread(brow_down, 0.8))
        shapes[f"browOuterUp{s}"] = face.brow_lift({int(i): (0, 1.2 * ti, 0) for i, ti in zip(brow, t)}, brow)
        inner_up = {int(i): (0, 1.4 * (1 - ti), 0) for i, ti in zip(brow, t)}
        shapes.setdefault("browInnerUp", np.zeros_like(face.v))
        shapes["browInnerUp"] = shapes["browInnerUp"] + face.brow_lift(inner_up, brow) * half

        # The muscles under the cheek and beside the nose move more than their own patch: the
        # cheek raiser pushes the lower lid up (AU6), the nose wrinkler also lifts the upper lip
        # and draws the inner brow down (AU9). Without those, neither reads on a face.
        lids = _lid_shapes(face, side)
        cheek_point = 50 if side == "right" else 280
        shapes[f"cheekSquint{s}"] = face.spread({cheek_point: (0, 0.35, 0.05)}, 1.0) + 0.7 * lids["lower_lid_up"]
        nose_side = 129 if side == "right" else 358
        inner_brow_down = {i: move for (i, move), ti in zip(brow_down.items(), t) if ti < 0.5}
        shapes[f"noseSneer{s}"] = (face.spread({nose_side: (0, 0.45, 0.05)}, 0.6)
                                   + 0.5 * shapes[f"mouthUpperUp{s}"] * upper_lip_body
                                   + 0.35 * face.spread(inner_brow_down, 0.6) + 0.4 * lids["lower_lid_up"])

        shapes[f"eyeBlink{s}"] = lids["blink"]
        shapes[f"eyeSquint{s}"] = lids["squint"]
        shapes[f"eyeWide{s}"] = lids["wide"]
        shapes[f"eyeLookDown{s}"] = lids["look_down"]
        shapes[f"eyeLookUp{s}"] = lids["look_up"]

    shapes["cheekPuff"] = face.spread({36: (-0.5, 0, 0.2), 266: (0.5, 0, 0.2)}, 1.3) * (1 - jaw * 0.5)
    basis = np.zeros((len(ARKIT_NAMES),) + face.v.shape, dtype=np.float32)
    for name, disp in shapes.items():
        basis[ARKIT_INDEX[name]] = disp
    return basis


def inner_lip_gaps(basis: np.ndarray) -> np.ndarray:
    """(52, 11, 3) how each shape moves the upper inner lip relative to the lower, per pair."""
    upper, lower = _inner_pairs()
    return basis[:, upper] - basis[:, lower]


def apply_basis(neutral: np.ndarray, basis: np.ndarray, weights: np.ndarray, device: str | None = None) -> np.ndarray:
    """(F, 52) weights → (F, 478, 3) faces; the product on ``device`` (a torch device) when given."""
    weights = np.asarray(weights, np.float32)
    if device is None or device == "cpu":
        return neutral[None] + np.einsum("fk,kvc->fvc", weights, basis, optimize=True)
    import torch

    from .host_copy import to_numpy
    on_device = lambda a: torch.as_tensor(np.array(a, np.float32), device=device)    # (a copy: may be read-only)
    faces = on_device(weights) @ on_device(basis).flatten(1) + on_device(neutral).flatten()
    return to_numpy(faces.reshape(len(weights), *neutral.shape))


# The eyeLook shapes move only the irises, which follow the gaze angles instead of the mesh:
# they are set from the gaze (and, solving from landmarks, read from it). Per eye: (down, in,
# out, up); "in" is toward the nose.
LOOK_SHAPES = {
    "left": ("eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft"),
    "right": ("eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight"),
}
LOOK_RANGE_DEG = 30.0


def look_weights(angles: np.ndarray, eye: str) -> np.ndarray:
    """(F, 2) yaw, pitch of one eye → (F, 4) eyeLook down, in, out, up weights."""
    yaw, pitch = angles[:, 0] / LOOK_RANGE_DEG, angles[:, 1] / LOOK_RANGE_DEG
    # +yaw turns toward +x: the subject's left, i.e. outward for the left eye.
    outward = yaw if eye == "left" else -yaw
    return np.clip(np.stack([-pitch, -outward, outward, pitch], 1), 0, 1)
