"""Helpers shared by the tests: devices, the gradient-check wrapper and its coverage registry.

    @gradient_test_for("Mul")
    @given(...)
    def test_mul_gradient(...):
        check_gradients(lambda a, b: a * b, a, b)

`COVERED` collects the op names that have a gradient test; test_registry.py fails
when an op in minigrad.autograd.OPS is missing from it.
"""

import numpy as np

import minigrad as mg
from minigrad import backend

DEVICES = ["cpu"] + (["cuda"] if mg.cuda.is_available() else [])

COVERED = set()


def gradient_test_for(*op_names):
    """Mark a test as the gradient test of the named ops (names as in mg.autograd.OPS)."""
    unknown = [name for name in op_names if name not in mg.autograd.OPS]
    if unknown:
        raise KeyError(f"gradient_test_for: no op named {unknown}; known: {sorted(mg.autograd.OPS)}")
    COVERED.update(op_names)

    def mark(test):
        return test
    return mark


def check_gradients(func, *arrays, device="cpu", requires_grad=None, **gradcheck_options):
    """gradcheck `func` on float64 copies of `arrays` (on `device`), and check MyGrad's two
    invariants: the op leaves its inputs unchanged, and no gradient shares memory with an input.

    requires_grad: which arrays to differentiate (default: all floating ones).
    """
    if requires_grad is None:
        requires_grad = [np.asarray(a).dtype.kind == "f" for a in arrays]
    tensors = []
    for array, grad in zip(arrays, requires_grad):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float64)
        tensors.append(mg.tensor(array, device=device, requires_grad=grad))
    originals = [t.numpy().copy() for t in tensors]

    assert mg.gradcheck(func, tuple(tensors), **gradcheck_options)

    # Once more on our own leaves, to inspect what backward left behind.
    out = func(*tensors)
    for original, t in zip(originals, tensors):
        np.testing.assert_array_equal(t.numpy(), original, err_msg="the op modified its input in place")
    if out.requires_grad:
        out.backward(mg.ones_like(out))
        for t in tensors:
            if t.grad is not None:
                assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
                for other in tensors:
                    assert not np.shares_memory(backend.to_numpy(t.grad.data), backend.to_numpy(other.data)), \
                        "a gradient shares memory with an input"
    return True
