"""Composable hypothesis strategies for image and logit inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes_nhwc(
    *, max_n: int = 8, max_side: int = 16, channels: tuple[int, ...] = (1, 3)
) -> st.SearchStrategy[tuple[int, int, int, int]]:
    """(N, H, W, C) shapes with 1 ≤ N ≤ max_n, 1 ≤ H, W ≤ max_side, C from `channels`."""
    return st.tuples(
        st.integers(1, max_n),
        st.integers(1, max_side),
        st.integers(1, max_side),
        st.sampled_from(channels),
    )


def uint8_images(
    *, max_n: int = 8, max_side: int = 16, channels: tuple[int, ...] = (3,)
) -> st.SearchStrategy[np.ndarray]:
    """Batches of uint8 images, N×H×W×C."""
    return shapes_nhwc(max_n=max_n, max_side=max_side, channels=channels).flatmap(
        lambda shape: hnp.arrays(np.uint8, shape, elements=st.integers(0, 255))
    )


def logits(
    *, max_n: int = 16, max_k: int = 10, min_k: int = 2, ties: bool = True
) -> st.SearchStrategy[np.ndarray]:
    """N×K float32 logit matrices; with `ties`, small integers make equal entries likely."""
    elements = (
        st.integers(-3, 3).map(float)
        if ties
        else st.floats(-50, 50, width=32, allow_nan=False, allow_infinity=False)
    )
    return st.tuples(st.integers(1, max_n), st.integers(min_k, max_k)).flatmap(
        lambda shape: hnp.arrays(np.float32, shape, elements=elements)
    )
