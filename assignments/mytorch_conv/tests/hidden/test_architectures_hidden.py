"""Hidden tests of `models.LeNetStyle` and `models.NiNStyle`: `num_classes`, NiN blocks, global
average pooling for any number of classes, and how the models behave in train and eval mode."""

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import outputs
from grader.testing import assert_close, assert_equal, points

from ..public.test_architectures import assert_logits_are_spatial_mean, cnn_probes_in, own_state

MODELS = ("LeNetStyle", "NiNStyle")


@points(2, part="architectures")
@settings(max_examples=6)
@given(k=st.integers(2, 20), n=st.integers(1, 5))
@example(k=3, n=2)
def test_num_classes_sets_the_number_of_logits(student, k, n):
    """LeNetStyle(num_classes=K) and NiNStyle(num_classes=K) map N×3×32×32 images to N×K logits."""
    x = torch.randn(n, 3, 32, 32)
    for name in MODELS:
        model = getattr(student.models, name)(num_classes=k)
        own_state(model, f"{name}(num_classes={k})")
        out = outputs(model, x, what=f"{name}(num_classes={k})")
        assert_equal(tuple(out.shape), (n, k), what=f"shape of {name}(num_classes={k})(x) for a batch of {n}")


@points(2, part="architectures")
def test_nin_blocks_are_a_spatial_conv_then_two_1x1_convs(student):
    """NiNStyle: its convolutions, in order, form NiN blocks (a k×k conv with k > 1, then two 1×1 convs), chained from 3 input channels to one channel per class."""
    model = student.models.NiNStyle(num_classes=7)
    state = own_state(model, "NiNStyle(num_classes=7)")
    convs = [(k, v) for k, v in state.items() if v.dim() == 4]
    shapes = [(k, tuple(v.shape)) for k, v in convs]
    assert convs and len(convs) % 3 == 0, (
        f"NiNStyle has {len(convs)} convolution weights {shapes}; NiN blocks have three convolutions each"
    )
    for i in range(0, len(convs), 3):
        (n0, w0), (n1, w1), (n2, w2) = convs[i : i + 3]
        assert tuple(w0.shape[2:]) != (1, 1), f"block {i // 3 + 1} starts with `{n0}`, a 1×1 convolution; expected a spatial (k×k, k > 1) one"
        for n_, w in ((n1, w1), (n2, w2)):
            assert tuple(w.shape[2:]) == (1, 1), (
                f"block {i // 3 + 1}: `{n_}` has a {w.shape[2]}×{w.shape[3]} kernel; the spatial "
                "convolution of a NiN block is followed by two 1×1 convolutions"
            )
    channels = [3] + [int(v.shape[0]) for _, v in convs]
    got_in = [int(v.shape[1]) for _, v in convs]
    assert_equal(got_in, channels[:-1], what="input channels of the convolutions, in order (each the previous one's output)")
    assert_equal(channels[-1], 7, what="output channels of the last convolution of NiNStyle(num_classes=7)")
    # The convolutions run in this order (their own outputs: see the pooling test).
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    ran = [name for name, _, _ in cnn_probes_in(student).conv_calls(model, x)]
    assert_equal(ran, [k.rpartition(".")[0] for k, _ in convs], what="the convolutions that run in a forward pass, in order")


@points(2, part="architectures")
@settings(max_examples=4)
@given(k=st.integers(2, 12), seed=st.integers(0, 1000))
@example(k=10, seed=0)
def test_nin_global_average_pooling_for_any_number_of_classes(student, k, seed):
    """NiNStyle(num_classes=K): the logits are the mean over H×W of the last convolution's K output channels (no layer after the pooling)."""
    model = student.models.NiNStyle(num_classes=k)
    own_state(model, f"NiNStyle(num_classes={k})")
    x = 3 * torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    assert_logits_are_spatial_mean(student, model, x, f"NiNStyle(num_classes={k})")


@points(1, part="architectures")
def test_eval_mode_is_deterministic_and_per_image(student):
    """In eval mode both models give the same logits twice, and each image's logits do not depend on the rest of the batch."""
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    for name in MODELS:
        model = getattr(student.models, name)()
        own_state(model, f"{name}()")
        model.train()
        model(x)  # move any running statistics away from their start
        batch = outputs(model, x, what=f"{name}()")
        assert_equal(outputs(model, x, what=f"{name}()"), batch, what=f"{name} eval-mode logits of a second pass over the same batch")
        singles = torch.cat([outputs(model, x[i : i + 1], what=f"{name}()") for i in range(len(x))])
        assert_close(singles, batch, rtol=1e-4, atol=1e-5, what=f"{name} eval-mode logits of each image alone, compared with in the batch")


@points(1, part="architectures")
def test_lenet_train_and_eval_switch_dropout(student):
    """LeNetStyle: train() after eval() turns dropout back on, and eval() turns it off again."""
    model = student.models.LeNetStyle()
    own_state(model, "LeNetStyle()")
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    model.eval()
    model.train()
    a, b = model(x), model(x)
    assert not torch.equal(a, b), "after eval() then train(), two passes over the same batch were identical: dropout stayed off"
    model.eval()
    c = outputs(model, x, what="LeNetStyle()")
    assert_equal(outputs(model, x, what="LeNetStyle()"), c, what="LeNetStyle eval-mode logits after train() then eval()")


@points(1, part="architectures")
def test_lenet_is_convolutional_then_fully_connected(student):
    """LeNetStyle: convolution layers followed by fully connected layers (4-D conv weights, then 2-D weight matrices, the last with 10 rows)."""
    state = own_state(student.models.LeNetStyle(), "LeNetStyle()")
    dims = [(k, v.dim()) for k, v in state.items() if k.endswith("weight") and v.dim() in (2, 4)]
    convs = [i for i, (_, d) in enumerate(dims) if d == 4]
    dense = [i for i, (_, d) in enumerate(dims) if d == 2]
    assert convs, "LeNetStyle has no convolution weights (4-D tensors)"
    assert dense, "LeNetStyle has no fully connected layer (2-D weight matrices)"
    assert max(convs) < min(dense), f"LeNetStyle's weights, in order, {dims}: convolutions should come before the dense layers"
    last = state[dims[dense[-1]][0]]
    assert_equal(int(last.shape[0]), 10, what=f"rows of the last weight matrix `{dims[dense[-1]][0]}` (one per class)")
