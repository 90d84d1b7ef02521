"""Helpers shared by the tests: devices, the gradient-check wrapper, its coverage registry,
and the hypothesis strategies the property tests draw their inputs from.

    @gradient_test_for("Mul")
    @pytest.mark.parametrize("device", DEVICES)
    @given(broadcastable_arrays(2))
    def test_mul_gradient(device, arrays):
        check_gradients(lambda a, b: a * b, *arrays, device=device)

`check_gradients` checks first derivatives with mg.gradcheck and second derivatives with
mg.gradgradcheck, so each such test covers both orders. `COVERED` collects the op names
that have one; test_registry.py fails when an op in minigrad.autograd.OPS is missing from it.

The strategies keep arrays small (at most 4 per dim, at most 4 dims by default) so
that gradcheck, which runs the function twice per input element, stays fast, and
they keep inputs away from kinks (where the numerical derivative is meaningless),
as MyGrad's tests do: values away from 0, away from bounds, without ties.
"""

import contextlib
import socket
import threading
from http.server import ThreadingHTTPServer

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
    """gradcheck and gradgradcheck `func` on float64 copies of `arrays` (on `device`), and check
    MyGrad's two invariants: the op leaves its inputs unchanged, and no gradient shares memory
    with an input.

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
    assert mg.gradgradcheck(func, tuple(tensors), **gradcheck_options)

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
                    assert not np.shares_memory(backend.to_numpy(t.grad.array), backend.to_numpy(other.array)), \
                        "a gradient shares memory with an input"
    return True


# --- strategies -------------------------------------------------------------------------

MAX_DIMS = 4
MAX_SIDE = 4


def floats(low=-3.0, high=3.0):
    """Finite float64 numbers in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low=0.01, high=3.0):
    """Numbers with low <= |x| <= high, of either sign (no kink of relu or abs in reach of eps)."""
    return st.one_of(floats(low, high), floats(-high, -low))


def away_from(points, distance=0.01, low=-3.0, high=3.0):
    """Numbers in [low, high] at least `distance` from each of `points` (e.g. the bounds of clamp)."""
    return floats(low, high).filter(lambda v: all(abs(v - p) >= distance for p in points))


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape, elements=None):
    """float64 arrays of `shape` (a tuple or a strategy), elements in [-3, 3] unless given."""
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats())


def distinct_arrays(shape, spacing=0.01):
    """float64 arrays whose elements differ pairwise by at least `spacing`: no ties for max
    (or max-pool) to break, so the numerical derivative sees one winner on both sides."""
    size = int(np.prod(shape))
    half_range = max(size, 300)
    ints = hnp.arrays(np.int64, shape, elements=st.integers(-half_range, half_range), unique=True)
    return ints.map(lambda a: a * spacing)


@st.composite
def broadcastable_arrays(draw, num_shapes, elements=None, min_dims=0, max_dims=MAX_DIMS):
    """`num_shapes` float64 arrays whose shapes broadcast together (but need not be equal)."""
    input_shapes, _ = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=MAX_SIDE))
    if not isinstance(elements, (list, tuple)):
        elements = [elements] * num_shapes
    return [draw(arrays(shape, e)) for shape, e in zip(input_shapes, elements)]


@st.composite
def shapes_broadcasting_to(draw, shape):
    """A shape that broadcasts to `shape` without growing it: some trailing dims of `shape`,
    each kept or made 1 (for per-element weights, as losses take)."""
    kept = draw(st.integers(0, len(shape)))
    return tuple(n if draw(st.booleans()) else 1 for n in shape[len(shape) - kept:])


@st.composite
def array_and_dim(draw, min_dims=1, max_dims=MAX_DIMS, elements=None, extra_dim=0):
    """An array and a valid (possibly negative) dim of it; extra_dim=1 allows dim == ndim
    (for stack and unsqueeze, which create a dim)."""
    x = draw(arrays(shapes(min_dims=min_dims, max_dims=max_dims), elements))
    rank = x.ndim + extra_dim
    return x, draw(st.integers(-rank, rank - 1))


@st.composite
def reduction_dims(draw, ndim):
    """dim for sum/mean/var: None, an int, or a tuple of distinct axes (possibly negative)."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    return draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1)))


@contextlib.contextmanager
def http_server(handler, **attributes):
    """A real HTTP server on 127.0.0.1 (a free port), serving in a thread; yields its base URL.
    `attributes` are set on the server object (handlers read them as self.server.<name>)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in attributes.items():
        setattr(httpd, name, value)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port():
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- comparing with PyTorch on tiny tensors ---------------------------------------------------

@pytest.fixture
def torch():
    """PyTorch on one thread (skipped where it is not installed): on tiny tensors its thread pool
    only costs time on busy cores. Use it as a test's `torch` argument."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def normal(*shape, seed=0):
    """Standard normal float64 values of `shape`, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal(shape)

