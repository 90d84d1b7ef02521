"""gradcheck: compare backward() with float64 central differences.

    mg.gradcheck(lambda a, b: (a @ b).tanh().sum(), (x.double(), w.double()))

For a function f and the inputs that require grad, it draws a fixed random
"cotangent" v shaped like f's output and compares, element by element,

    analytic:  d(sum(v * f))/dx  from backward()
    numeric:   (sum(v * f(x + eps e_i)) - sum(v * f(x - eps e_i))) / (2 eps)

(this is the vector-Jacobian product backward is meant to compute; a wrong
Jacobian entry shows up in it for almost every v). With several such inputs it
also asks `autograd.grad` for each one's gradient alone, a pass in which each op
is asked for no other (`needs_input_grad`), and checks that it is the same. Defaults follow PyTorch:
eps 1e-6, atol 1e-5, rtol 1e-3. It refuses float32 inputs: their rounding error
(~1e-7 relative) divided by eps would swamp the comparison.
"""

import numpy as np

from . import autograd, backend, ops
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when backward disagrees with the numerical derivative."""


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """True if backward matches central differences; else raise GradcheckError (or return False)."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {t.dtype}; use float64 inputs (.double()), since float32 "
                f"rounding makes finite differences meaningless at eps={eps}")
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    # Fresh leaves, so that the caller's tensors (and their .grad) are left alone.
    leaves = [Tensor._wrap(t.array.copy(), t.requires_grad) if isinstance(t, Tensor) else t for t in inputs]
    before = [backend.to_numpy(leaves[i].array).copy() for i in wrt]

    out = func(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    xp = backend.array_module(out.array)
    rng = np.random.default_rng(seed)
    cotangent = xp.asarray(rng.standard_normal(out.shape))
    if out.requires_grad:
        out.backward(Tensor._wrap(cotangent.astype(out.dtype), False))

    for i, original in zip(wrt, before):
        if not np.array_equal(backend.to_numpy(leaves[i].array), original):
            raise GradcheckError(f"gradcheck: the function modified input {i} in place")
    alone = _each_gradient_alone(func, leaves, wrt, cotangent) if len(wrt) > 1 else None
    if alone is not None:
        if raise_exception:
            raise GradcheckError(alone)
        return False

    def projected(values):
        with no_grad():
            result = func(*values)
        return float((result.array.astype(np.float64) * cotangent).sum())

    worst = None  # (excess over tolerance, input, position, analytic, numeric)
    for i in wrt:
        leaf = leaves[i]
        analytic = np.zeros(leaf.shape) if leaf.grad is None else backend.to_numpy(leaf.grad.array)
        if analytic.shape != leaf.shape:
            raise GradcheckError(f"gradcheck: input {i} has shape {leaf.shape} but its grad has shape {analytic.shape}")
        probe = [Tensor._wrap(t.array.copy(), False) if isinstance(t, Tensor) else t for t in leaves]
        data = probe[i].array
        for position in np.ndindex(*leaf.shape):
            original = data[position].item()
            data[position] = original + eps
            plus = projected(probe)
            data[position] = original - eps
            minus = projected(probe)
            data[position] = original
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic[position])
            excess = abs(a - numeric) - (atol + rtol * abs(numeric))
            if not np.isfinite(excess):  # a NaN or inf on either side is the worst failure
                excess = np.inf
            if worst is None or excess > worst[0]:
                worst = (excess, i, position, a, numeric)

    if worst is None or worst[0] <= 0:  # None: the inputs have no elements, so nothing can disagree
        return True
    _, i, position, a, numeric = worst
    message = (f"gradcheck failed: input {i} at position {position}: analytic {a:.10g}, numeric {numeric:.10g} "
               f"(|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} * |numeric|)")
    if raise_exception:
        raise GradcheckError(message)
    return False


def _each_gradient_alone(func, leaves, wrt, cotangent):
    """None where each input's gradient from a pass that wants only it (autograd.grad: its ops are
    asked for no other input's gradient) is the one backward() put in its .grad, to rounding;
    else what differs."""
    for i in wrt:
        out = func(*leaves)
        alone = None
        if out.requires_grad:
            alone, = autograd.grad(out, leaves[i], Tensor._wrap(cotangent.astype(out.dtype), False), allow_unused=True)
        together = leaves[i].grad
        alone = np.zeros(leaves[i].shape) if alone is None else backend.to_numpy(alone.array)
        together = np.zeros(leaves[i].shape) if together is None else backend.to_numpy(together.array)
        if not np.allclose(alone, together, rtol=1e-10, atol=1e-12, equal_nan=True):
            worst = tuple(int(k) for k in np.unravel_index(np.argmax(np.abs(alone - together)), alone.shape))
            return (f"gradcheck failed: input {i}'s gradient alone (autograd.grad) is {alone[worst]:.10g} "
                    f"at position {worst}, but {together[worst]:.10g} with every input's (backward)")
    return None


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """True if second derivatives match central differences of the first ones.

    The first derivatives, as a function of the inputs and of the output cotangent v,

        first(x, v) = d(sum(v * func(x)))/dx     (mg.autograd.grad with create_graph=True)

    are checked with `gradcheck`: their backward (the double backward) against their
    own finite differences. v requires grad too, so an engine that returned detached
    first derivatives fails here even for ops whose second derivative is zero.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradgradcheck: no input has requires_grad=True, so there is nothing to check")
    with no_grad():
        out = func(*inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        xp = backend.array_module(out.array)
        grad_outputs = Tensor._wrap(xp.asarray(rng.standard_normal(out.shape)), True)

    def first_derivatives(*args):
        *xs, v = args
        # gradcheck probes with copies that do not require grad: those become fresh leaves here
        xs = [Tensor._wrap(x.array, True) if i in wrt and not x.requires_grad else x for i, x in enumerate(xs)]
        with autograd.enable_grad():
            result = func(*xs)
            if not result.requires_grad:
                grads = [None] * len(wrt)
            else:
                grads = autograd.grad(result, [xs[i] for i in wrt], v, create_graph=True, allow_unused=True)
            flat = [ops.reshape(g, -1) if g is not None else ops.reshape(ops.mul(xs[i], 0.0), -1).detach()
                    for i, g in zip(wrt, grads)]
            return ops.cat(flat)

    # The recorded first derivatives must be the ones gradcheck verifies (a fused op's closed form may differ).
    recorded = backend.to_numpy(first_derivatives(*inputs, grad_outputs).array)
    with autograd.enable_grad():
        leaves = [Tensor._wrap(t.array, True) if i in wrt else t for i, t in enumerate(inputs)]
        result = func(*leaves)
        plain = autograd.grad(result, [leaves[i] for i in wrt], grad_outputs.detach(), allow_unused=True) \
            if result.requires_grad else [None] * len(wrt)
    plain = np.concatenate([np.zeros(leaves[i].array.size) if g is None else backend.to_numpy(g.array).reshape(-1)
                            for i, g in zip(wrt, plain)]) if wrt else np.zeros(0)
    if not np.allclose(recorded, plain, atol=atol, rtol=rtol):
        worst = int(np.argmax(np.abs(recorded - plain)))
        message = (f"gradgradcheck failed: the first derivatives recorded with create_graph=True differ from "
                   f"the plain ones at flat position {worst}: {recorded[worst]:.10g} against {plain[worst]:.10g}")
        if raise_exception:
            raise GradcheckError(message)
        return False
    return gradcheck(first_derivatives, inputs + (grad_outputs,), eps, atol, rtol, raise_exception, seed)
