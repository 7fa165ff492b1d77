"""Hidden tests of `augment_data.Rotate` (angle rule and fill apart; angles recovered from a test pattern) and `Grayscale`."""

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


def _centre(img: np.ndarray, deg: int) -> np.ndarray:
    """The rotated pattern, or its central SIZE×SIZE part when the image grew.

    Keeping the shape has its own (public) test; an image that grew around the same centre
    (e.g. `reshape=True`) still shows the angle and the fill, so that slip is paid there only.
    """
    if img.ndim != 3 or img.shape[0] < SIZE or img.shape[1] < SIZE:
        raise AssertionError(
            f"Rotate({deg}) turned a {PATTERN.shape} test image into shape {img.shape}; "
            "the angle cannot be read from it"
        )
    top, left = (img.shape[0] - SIZE) // 2, (img.shape[1] - SIZE) // 2
    return img[top : top + SIZE, left : left + SIZE, :3]


def _draw_angles(student, deg: int, draws: int) -> list[tuple[float, np.ndarray]]:
    """`draws` rotations of the test pattern by Rotate(deg): the angle each turned it by, and the image.

    The angle is measured, whatever rule drew it (whole degrees or not): the rule has tests of
    its own, and the other tests judge each image by the angle it was actually turned by.
    """
    rotate = student.augment_data.Rotate(deg)
    out = []
    for _ in range(draws):
        img = _centre(np.asarray(rotate(PATTERN)), deg)
        out.append((_angle(img), img))
    return out


@points(2, part="augmentation")
def test_rotate_angles_are_whole_degrees(student):
    """Rotate(deg): every rotation angle is a whole number of degrees (recovered from a test pattern)."""
    for a, _ in _draw_angles(student, 20, 25):
        assert abs(a - round(a)) < 0.3, (
            f"Rotate(20) turned the test pattern by {a:.2f}°, which is not a whole number of degrees"
        )


@points(1, part="augmentation")
def test_rotate_angles_cover_the_range_both_ends_included(student):
    """Rotate(deg): random angles in [-deg, deg], both ends included, not all the same (angles rounded to whole degrees)."""
    for deg, draws in ((1, 40), (3, 90)):
        got = sorted({round(a) for a, _ in _draw_angles(student, deg, draws)})
        assert_equal(
            got,
            list(range(-deg, deg + 1)),
            what=f"the angles (degrees, rounded) of {draws} rotations by Rotate({deg})",
        )
    angles = [a for a, _ in _draw_angles(student, 20, 25)]
    outside = [round(a, 1) for a in angles if abs(a) > 20.3]
    assert not outside, (
        f"Rotate(20) turned the test pattern by {outside} degrees, outside [-20, 20]"
    )
    assert len({round(a) for a in angles}) > 3, (
        f"25 rotations by Rotate(20) gave only the angles {sorted({round(a) for a in angles})}"
    )


@points(2, part="augmentation")
def test_rotate_fills_with_black(student):
    """Rotate: pixels that come from outside the image are black (0), not copies of the edge (judged at the angle actually drawn)."""
    checked = 0
    for a, img in _draw_angles(student, 30, 12):
        if abs(a) < 5:
            continue
        checked += 1
        corners = img[[0, 0, -1, -1], [0, -1, 0, -1]]
        assert_equal(
            corners,
            np.zeros_like(corners),
            what=f"the four corner pixels after a rotation by {a:.1f}° (the image's edge is white)",
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
