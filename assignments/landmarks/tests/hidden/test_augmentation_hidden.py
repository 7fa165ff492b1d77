"""Hidden tests of `augment_data.Rotate` (angles recovered from a test pattern, fill) and `Grayscale`."""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testing import assert_equal, points

SIZE = 161  # large, so that even nearest-neighbour rotations reveal the angle to well under 0.5°
CENTER = (SIZE - 1) / 2
_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
_R2 = (_XX - CENTER) ** 2 + (_YY - CENTER) ** 2


def _pattern() -> np.ndarray:
    """A white horizontal bar through the centre of a black disk; white outside the disk.

    Rotating about the centre keeps the disk's content inside the disk, so the bar's
    orientation gives the angle. The corners come from outside the image once the angle is a
    few degrees: they must be black, whereas repeating the (white) edge would make them white.
    """
    bar = np.exp(-((_YY - CENTER) ** 2) / (2 * 3.0**2)) * np.clip(
        (70 - np.abs(_XX - CENTER)) / 4, 0, 1
    )
    img = np.where(_R2 <= CENTER**2, 255 * bar, 255.0)
    return np.repeat(np.rint(img)[:, :, None], 3, axis=2).astype(np.uint8)


PATTERN = _pattern()
_INSIDE = _R2 <= (CENTER - 5) ** 2


def _angle(img: np.ndarray) -> float:
    """The bar's orientation in degrees, from the intensity moments inside the disk."""
    w = np.where(_INSIDE, np.asarray(img, dtype=np.float64).mean(axis=2), 0.0)
    m = w.sum()
    if m <= 0:
        raise AssertionError(
            "the rotated test pattern is empty: the bar through the centre disappeared"
        )
    cx, cy = (w * _XX).sum() / m, (w * _YY).sum() / m
    mu20 = (w * (_XX - cx) ** 2).sum()
    mu02 = (w * (_YY - cy) ** 2).sum()
    mu11 = (w * (_XX - cx) * (_YY - cy)).sum()
    return float(np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02)))


def _draw_angles(student, deg: int, draws: int) -> list[tuple[float, np.ndarray]]:
    rotate = student.augment_data.Rotate(deg)
    out = []
    for _ in range(draws):
        img = np.asarray(rotate(PATTERN))
        assert_equal(img.shape, PATTERN.shape, what=f"shape of Rotate({deg})(img)")
        a = _angle(img)
        assert abs(a - round(a)) < 0.3, (
            f"Rotate({deg}) turned the test pattern by {a:.2f}°, which is not a whole number of degrees"
        )
        out.append((a, img))
    return out


@points(2, part="augmentation")
def test_rotate_angles_cover_both_ends(student):
    """Rotate(deg): random integer angles in [-deg, deg], both ends included (recovered from a test pattern)."""
    for deg, draws in ((1, 40), (3, 90)):
        got = sorted({round(a) for a, _ in _draw_angles(student, deg, draws)})
        assert_equal(
            got,
            list(range(-deg, deg + 1)),
            what=f"the angles (degrees) of {draws} rotations by Rotate({deg})",
        )


@points(1, part="augmentation")
def test_rotate_angles_within_range(student):
    """Rotate(20): every rotation angle lies within [-20, 20] and they are not all the same."""
    angles = [a for a, _ in _draw_angles(student, 20, 25)]
    outside = [round(a) for a in angles if abs(a) > 20.3]
    assert not outside, (
        f"Rotate(20) turned the test pattern by {outside} degrees, outside [-20, 20]"
    )
    assert len({round(a) for a in angles}) > 3, (
        f"25 rotations by Rotate(20) gave only the angles {sorted({round(a) for a in angles})}"
    )


@points(1, part="augmentation")
def test_rotate_fills_with_black(student):
    """Rotate: pixels that come from outside the image are black (0), not copies of the edge."""
    checked = 0
    for a, img in _draw_angles(student, 30, 12):
        if abs(a) < 5:
            continue
        checked += 1
        corners = img[[0, 0, -1, -1], [0, -1, 0, -1]]
        assert_equal(
            corners,
            np.zeros_like(corners),
            what=f"the four corner pixels after a rotation by {round(a)}° (the image's edge is white)",
        )
    assert checked, "no rotation of at least 5 degrees in 12 draws of Rotate(30)"


@points(1, part="augmentation")
@given(
    img=st.tuples(st.integers(1, 20), st.integers(1, 20)).flatmap(
        lambda s: hnp.arrays(np.uint8, (*s, 3), elements=st.integers(0, 255))
    )
)
@example(img=np.array([[[0, 1, 1], [10, 20, 31]], [[255, 255, 254], [2, 2, 3]]], dtype=np.uint8))
def test_grayscale_rounds_the_channel_mean(student, img):
    """Grayscale: every channel equals the per-pixel channel mean rounded to the nearest integer (not truncated)."""
    mean = img.astype(np.float64).mean(axis=2)
    expected = np.repeat(np.rint(mean).astype(np.uint8)[:, :, None], 3, axis=2)
    assert_equal(
        np.asarray(student.augment_data.Grayscale()(img)), expected, what="Grayscale()(img)"
    )
