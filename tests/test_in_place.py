"""In place means in place: x.add_(y), x += y, x[key] = y and x._apply_in_place(op) change x's own
memory, and autograd records them as PyTorch does (version counters, and the error when a value
saved for backward was changed). Compared with PyTorch where it is installed."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def both(array, requires_grad=True):
    """The same float64 values as a minigrad and a torch leaf."""
    return (mg.tensor(array, dtype=mg.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def relu_in_place(lib, y):
    if lib is mg:
        return y._apply_in_place(mg.relu)
    return y.relu_()


def sigmoid_in_place(lib, y):
    if lib is mg:
        return y._apply_in_place(mg.sigmoid)
    return y.sigmoid_()


# Each case: a function of (lib, x, w) that changes an intermediate in place and returns a scalar.
CASES = {
    "add_ by a tensor that requires grad": lambda lib, x, w: (x * 2).add_(w).pow(2).sum(),
    "sub_ with alpha": lambda lib, x, w: (x * 3).sub_(w, alpha=0.5).pow(2).sum(),
    "mul_ then div_": lambda lib, x, w: (x + 1).mul_(w).div_(w * w + 1).sum(),
    "+= and *=": lambda lib, x, w: _augmented(x, w),
    "relu in place after a matmul": lambda lib, x, w: relu_in_place(lib, x @ w.T).pow(2).sum(),
    "sigmoid in place saves x as its output": lambda lib, x, w: sigmoid_in_place(lib, x * w).sum(),
    "item assignment of a tensor that requires grad": lambda lib, x, w: _assign(x, w),
    "clamp_ on a non-leaf": lambda lib, x, w: (x * w).clamp_(-0.5, 0.5).pow(2).sum(),
    "copy_ from a tensor that requires grad": lambda lib, x, w: _copy(lib, x, w),
}


def _augmented(x, w):
    y = x * 1
    y += w
    y *= w
    return y.sum()


def _assign(x, w):
    y = x * 2
    y[0] = w[1] * 3
    return (y * y).sum()


def _copy(lib, x, w):
    y = lib.zeros(x.shape, dtype=x.dtype)
    y.copy_(w)
    return (y * x).sum()


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_gradients_match_pytorch(name):
    x_values, w_values = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    (mx, tx), (mw, tw) = both(x_values), both(w_values)
    mine, theirs = CASES[name](mg, mx, mw), CASES[name](torch, tx, tw)
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-12)
    mine.backward()
    theirs.backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_second_order(name):
    x, w = (mg.tensor(RNG.standard_normal((2, 3)), dtype=mg.float64, requires_grad=True) for _ in range(2))
    if name == "clamp_ on a non-leaf":  # away from clamp's kinks
        x = mg.tensor(RNG.uniform(-0.3, 0.3, (2, 3)), requires_grad=True, dtype=mg.float64)
        w = mg.tensor(RNG.uniform(0.5, 1.0, (2, 3)), requires_grad=True, dtype=mg.float64)
    assert mg.gradcheck(lambda a, b: CASES[name](mg, a, b), (x, w))
    assert mg.gradgradcheck(lambda a, b: CASES[name](mg, a, b), (x, w))


def test_every_reference_and_view_sees_the_change():
    x = mg.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    y = x * 1
    kept, view, detached = y, y[0], y.detach()
    out = y._apply_in_place(mg.relu)
    assert out is y is kept
    for seen in (y, view, detached):
        assert seen.numpy().min() >= 0
    assert y._version[0] == view._version[0] == 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])


def test_a_value_saved_for_backward_then_changed_in_place_raises_as_in_pytorch():
    for lib, x in zip((mg, torch), both([0.5, -1.0])):
        y = x * 2
        z = y * y  # saves y
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            z.sum().backward()


def test_an_output_saved_for_backward_then_changed_in_place_raises_as_in_pytorch():
    for lib, x in zip((mg, torch), both([0.5, -1.0])):
        y = x.sigmoid()  # backward reads y
        relu_in_place(lib, y)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()


def test_a_leaf_that_requires_grad_refuses_in_place_changes():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.mul_(mg.tensor([2.0, 2.0], requires_grad=True)),
                   lambda: w._apply_in_place(mg.relu)):
        with pytest.raises(RuntimeError, match="leaf tensor of shape \\(2,\\) that requires grad"):
            change()
    with mg.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 3.0] and w.is_leaf


def test_results_that_do_not_fit_are_refused_as_in_pytorch():
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        x.add_(mg.ones(2, 3))
    counts = mg.zeros(3, dtype=mg.int64)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        counts._apply_in_place(mg.ops.add, mg.tensor([0.5, 0.5, 0.5], requires_grad=True))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        counts.add_(0.5)
    assert counts.tolist() == [0, 0, 0] and counts._version[0] == 0  # nothing was written


def test_in_place_under_no_grad_is_a_plain_write():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = x * 1
    with mg.no_grad():
        y._apply_in_place(mg.relu)
    assert y.tolist() == [1.0, 0.0] and y.grad_fn is not None and type(y.grad_fn).__name__ == "Mul"


def test_a_view_changed_in_place_is_refused_where_its_base_would_give_a_wrong_gradient():
    """PyTorch rewrites the base's history (CopySlices). minigrad records the change on the view only:
    the view and what is computed from it are right, and an op that uses the base afterwards refuses
    backward instead of differentiating through the base's old history."""
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):  # what the view itself gives is PyTorch's
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = a * 2
        v = y[0:2]
        v.relu_()
        (v * lib.tensor([1.0, 10.0])).sum().backward()
        assert a.grad.tolist() == [2.0, 0.0, 0.0] and y.tolist() == [2.0, 0.0, 6.0]
    a, w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([5.0], requires_grad=True)
    y = a * 1
    y[0:1].mul_(w)  # e.g. denormalising a slice for an image: fine while nothing differentiates y
    assert y.tolist() == [5.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="after a view of it was changed in place"):
        y.sum().backward()
    buffer = mg.zeros(3)
    with pytest.raises(RuntimeError, match="view of shape \\(2,\\) into a tensor that is not part of the graph"):
        buffer[0:2].copy_(w)
    leaf = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf tensor that requires grad"):
        leaf[0:2].mul_(w)
    y = a * 1
    y[0:1] = a[0:1] * w  # the way that works: change the base itself
    y.sum().backward()
    assert a.grad.tolist() == [5.0, 1.0, 1.0] and w.grad.tolist() == [1.0]
    with mg.no_grad():
        buffer[0:2].add_(1.0)  # no graph, no history to rewrite: a plain write into the memory
    assert buffer.tolist() == [1.0, 1.0, 0.0]


def test_in_place_type_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            lib.zeros(2, dtype=lib.bool).add_(1)
        with pytest.raises(RuntimeError, match="argument alpha must not be a floating point number"):
            lib.add(lib.tensor([1, 2]), lib.tensor([1, 1]), alpha=2.5)
        transposed = lib.arange(6.0).reshape(2, 3).t()
        if lib is mg:  # PyTorch reads its storage; minigrad refuses a non-C, non-F layout only
            assert transposed.resize_(6).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
            with pytest.raises(RuntimeError, match="not contiguous"):
                lib.arange(8.0).reshape(2, 4)[:, ::2].resize_(4)


def test_an_op_that_read_the_tensor_before_it_changed_refuses_even_after_the_change_was_freed():
    """y[0:1] = y[0:1].clone() * w: the slice was taken from y before y changed. Its op must not
    follow y's new node (a cycle that would drop the gradient); it refuses, as the docs say."""
    a, w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.tensor([5.0], requires_grad=True)
    y = a * 1
    y[0:1] = y[0:1].clone() * w
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()



def test_fill_zero_and_copy_on_a_non_leaf_give_the_old_values_a_zero_gradient_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        for change in (lambda y, w: y.fill_(3.0), lambda y, w: y.zero_(), lambda y, w: y.copy_(w * 2),
                       lambda y, w: y.bernoulli_(0.5)):
            x, w = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
            y = x * 1
            change(y, w)
            (y * 1).sum().backward()
            assert x.grad.tolist() == [0.0, 0.0]
        assert w.grad is None


def test_backward_of_several_tensors_and_to_with_pytorchs_keywords():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        x = lib.ones(2, requires_grad=True)
        lib.autograd.backward([(x * 2).sum(), (x * x).sum()])
        assert x.grad.tolist() == [4.0, 4.0]
        y = lib.ones(2)
        assert y.to("cpu", non_blocking=True) is y and y.to("cpu", copy=True) is not y
        assert y.to(lib.float64, non_blocking=True).dtype == lib.float64 and y.cpu() is y
        assert lib.randint(10, (4,)).shape == (4,) and lib.randint(3, 9, (2, 2)).dtype == lib.int64
        assert lib.randint(10, (3,), dtype=lib.float64).dtype == lib.float64 and lib.randint(5, (0,)).shape == (0,)
        assert lib.randperm(4, dtype=lib.int32).dtype == lib.int32
