"""Public tests of `gradcam.gradcam_weights` and `gradcam.gradcam_map`: the worked exercise."""

import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testing import assert_close, assert_equal, points

# ∂y_c/∂A for two 4×4 maps: 3 of the 16 entries of the first are 1, and the second has
# entries summing to 7, so the averages are α = (3/16, 7/16).
GRADS = torch.tensor(
    [
        [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        [[2.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0], [0.0, 3.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
    ]
)
ACTIVATIONS = torch.tensor(
    [
        [
            [16.0, 0.0, -16.0, 0.0],
            [0.0, 16.0, 0.0, -16.0],
            [32.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 16.0, 16.0],
        ],
        [
            [0.0, 16.0, 0.0, 0.0],
            [-16.0, 0.0, 16.0, 0.0],
            [0.0, -16.0, 0.0, 16.0],
            [0.0, 0.0, -16.0, 0.0],
        ],
    ]
)
# ReLU(3/16 · A¹ + 7/16 · A²), worked by hand: 16·3/16 = 3, 16·7/16 = 7.
EXPECTED_MAP = torch.tensor(
    [[3.0, 7.0, 0.0, 0.0], [0.0, 3.0, 7.0, 0.0], [6.0, 0.0, 0.0, 7.0], [0.0, 0.0, 0.0, 3.0]]
)


@points(2, part="gradcam")
def test_weights_worked_example(student):
    """gradcam_weights: α_k is the mean of ∂y_c/∂A^k over the 4×4 positions, here (3/16, 7/16)."""
    alphas = student.gradcam.gradcam_weights(GRADS)
    assert_close(
        alphas,
        torch.tensor([3 / 16, 7 / 16]),
        rtol=1e-6,
        what="gradcam_weights of the worked example",
    )


@points(2, part="gradcam")
def test_map_worked_example(student):
    """gradcam_map: ReLU(Σ_k α_k A^k) with α = (3/16, 7/16); negative cells become 0."""
    cam = student.gradcam.gradcam_map(ACTIVATIONS, torch.tensor([3 / 16, 7 / 16]))
    assert_close(cam, EXPECTED_MAP, rtol=1e-6, atol=1e-6, what="gradcam_map of the worked example")


@st.composite
def maps_and_weights(draw):
    """K×H×W activations and K weights, any signs."""
    shape = draw(st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7)))
    floats = st.floats(-10, 10, width=32)
    return draw(hnp.arrays(np.float32, shape, elements=floats)), draw(
        hnp.arrays(np.float32, shape[:1], elements=floats)
    )


@points(1, part="gradcam")
@given(case=maps_and_weights())
@example(case=(ACTIVATIONS.numpy(), np.array([-0.5, 0.25], dtype=np.float32)))
def test_map_is_non_negative_with_shape_h_w(student, case):
    """gradcam_map: for any K×H×W activations and K weights, the map is H×W with no negative entry."""
    acts, alphas = case
    k, h, w = acts.shape
    cam = student.gradcam.gradcam_map(torch.from_numpy(acts), torch.from_numpy(alphas))
    assert_equal(tuple(cam.shape), (h, w), what=f"shape of gradcam_map for {k}×{h}×{w} activations")
    assert float(cam.min()) >= 0, f"gradcam_map has a negative entry ({float(cam.min())})"
