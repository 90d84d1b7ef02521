"""One parity table: every PyTorch name of the API census that minigrad exports, against PyTorch.

In the spirit of PyTorch's OpInfo database, each entry (an `OpCase`) is written once:

    case("torch.add", lambda lib, x, y: lib.add(x, y), binary())

`call(lib, *tensors, **kw)` runs the same expression with `lib` = minigrad or torch; the samples
(`Sample(args, kwargs)`) are NumPy arrays (made into a tensor on each side) and plain values
(passed as they are), over dtypes (float32, float64, int64, bool), shapes (broadcasting pairs,
0-dim, empty) and keyword variants. For each sample the runner compares

- the value (float32 to 1e-5, float64 to 1e-10, integers and bools exactly), dtype (PyTorch's
  dtype as NumPy's) and shape of every tensor in the result, and plain results (sizes, dtypes,
  devices, Python numbers) exactly;
- for float64 samples of a differentiable case, the gradient of every float64 input (None where
  PyTorch's is None), from the same random cotangent on both sides;
- errors: where PyTorch raises, minigrad must raise too (the type too, for names in ERROR_TYPES).

Random functions are compared through statistics that hold with overwhelming probability
(range, mean, shape, dtype), computed by the same expression on both sides. nn modules
(`ModuleCase`) are built from the same arguments, torch's copy loads minigrad's state_dict, and
outputs, input gradients and parameter gradients are compared. Names that are not computations
(seeds, device probes, optimisers, data loading, saving) have a small `behaviour` check each, or
sit in EXEMPT with the reason.

`test_census_coverage` reads tests/parity_census.txt (the in-scope names of the census) and fails
for every name that minigrad has (judged now, as tools/api_census.py judges it) with no case here
and no EXEMPT entry. Cases prepared for census names that minigrad does not have yet skip until
it does.

Where minigrad differs from PyTorch (a bug to fix), the samples that show it are listed in
KNOWN_DIFFERENCES with the exact difference; they run as a case of their own marked
xfail(strict=True), so the fix turns it into a failure (XPASS) that asks for the line to go.

To regenerate that file from a census run (see docs/compatibility.md):

    python tools/api_census.py CORPUS... --exclude ... --json census.json
    python tests/test_parity_table.py census.json      # writes tests/parity_census.txt
"""

import importlib.util
import json
import math
import sys
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
CENSUS_FILE = Path(__file__).resolve().parent / "parity_census.txt"

try:
    import torch
except ImportError:  # the table needs torch; the census file can be written without it
    torch = None

F32, F64, I64, BOOL = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)
ALL = (F32, F64, I64, BOOL)
NUMERIC = (F32, F64, I64)
FLOATS = (F32, F64)
TOLERANCE = {F32: dict(rtol=1e-5, atol=1e-6), F64: dict(rtol=1e-10, atol=1e-10)}

# Names whose error type must match PyTorch's, not only the fact of raising.
ERROR_TYPES = {"torch.cat", "torch.stack", "torch.matmul", "Tensor.view", "Tensor.reshape", "torch.gather",
               "torch.nn.functional.one_hot", "Tensor.item", "Tensor.__getitem__"}

_rng = np.random.default_rng(20240601)

# PyTorch's own deprecation and performance notes on some samples (x.T of a 1-D tensor, std of one value,
# nn.Transformer without batch_first, a loss's target shape, the old names) are not what is compared here.
pytestmark = [pytest.mark.filterwarnings("ignore:The use of `x.T`:UserWarning"),
              pytest.mark.filterwarnings("ignore:Tensor.T is deprecated:UserWarning"),
              pytest.mark.filterwarnings("ignore:std....degrees of freedom:UserWarning"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
              pytest.mark.filterwarnings("ignore:`nn.init.*is now deprecated"),
              pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
              pytest.mark.filterwarnings("ignore:torch.range is deprecated"),
              pytest.mark.filterwarnings("ignore:`torch.nn.utils.clip_grad_norm` is now deprecated")]


# --- samples ----------------------------------------------------------------------------------

@dataclass
class Sample:
    args: tuple                      # np.ndarray -> a tensor on each side; anything else passed as is
    kwargs: dict = field(default_factory=dict)
    grad: tuple = None               # indices of args to differentiate (default: every float64 array)
    number: int = None               # its place in its case's list (what KNOWN_DIFFERENCES and failures cite)


def array(shape, dtype=F64, low=-2.0, high=2.0):
    """Random values of `dtype` in [low, high) (integers in [ceil(low), floor(high)]; bools fair)."""
    dtype = np.dtype(dtype)
    if dtype == BOOL:
        return np.asarray(_rng.random(shape) < 0.5)
    if dtype.kind in "iu":
        return np.asarray(_rng.integers(math.ceil(low), math.floor(high) + 1, shape), dtype=dtype)
    return np.asarray(_rng.uniform(low, high, shape), dtype=dtype)


def distinct(shape, dtype=F64):
    """Values without ties (sorting and top-k indices are then unique)."""
    return np.asarray(_rng.permutation(int(np.prod(shape))).reshape(shape) - 5, dtype=dtype)


def positive(shape, dtype=F64):
    return array(shape, dtype, 0.5, 2.0)


def unary(dtypes=ALL, low=-2.0, high=2.0, shapes=((3, 4), (), (0, 3)), kwargs=({},)):
    """One input of each dtype and shape (matrix, 0-dim, empty), with each keyword variant."""
    return [Sample((array(shape, dtype, low, high),), dict(kw))
            for dtype in dtypes for shape in shapes for kw in kwargs]


BINARY_DTYPES = [(F32, F32), (F64, F64), (I64, I64), (BOOL, BOOL), (I64, F32), (F32, F64), (BOOL, I64),
                 (BOOL, F64)]
BINARY_SHAPES = [((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((0, 3), (1, 3))]


def binary(dtypes=BINARY_DTYPES, low=-2.0, high=2.0, low2=None, high2=None, scalars=(2, 2.5, True),
           shapes=BINARY_SHAPES, error=True):
    """Pairs over dtypes (type promotion), broadcasting shapes (0-dim, empty), a 0-dim second operand
    of a higher dtype (which does not promote across the same category), Python scalars, and a pair
    that does not broadcast (PyTorch raises)."""
    low2 = low if low2 is None else low2
    high2 = high if high2 is None else high2
    out = [Sample((array((3, 4), a, low, high), array((3, 4), b, low2, high2))) for a, b in dtypes]
    out += [Sample((array(s, F64, low, high), array(t, F64, low2, high2))) for s, t in shapes]
    out += [Sample((array((3,), F32, low, high), array((), F64, low2, high2))),
            Sample((array((3,), I64, low, high), array((), F32, low2, high2)))]
    out += [Sample((array((2, 3), d, low, high), s)) for d in (F32, I64) for s in scalars]
    if error:
        out.append(Sample((array((3,), F64, low, high), array((4,), F64, low2, high2))))
    return out


def reduction(dtypes=NUMERIC, kwargs=({}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": 0}),
              shapes=((3, 4),), empty=True, low=-2.0, high=2.0):
    """A matrix of each dtype with each keyword variant; a 0-dim input; an empty input."""
    out = [Sample((array(shape, d, low, high),), dict(kw)) for d in dtypes for shape in shapes for kw in kwargs]
    out.append(Sample((array((), F64, low, high),)))
    if empty:
        out += [Sample((array((0, 3), F64, low, high),)), Sample((array((0, 3), F64, low, high),), {"dim": 1})]
    return out


def given(*args, grad=None, **kwargs):
    """One sample written out."""
    return Sample(args, kwargs, grad)


# --- cases --------------------------------------------------------------------------------------

@dataclass
class OpCase:
    name: str                        # the census name: torch.X, torch.nn.functional.X, Tensor.X, ...
    call: Callable                   # call(lib, *tensors, **kw)
    samples: list
    grad: bool = True                # compare gradients on float64 samples
    tol: dict = None                 # overrides TOLERANCE per dtype
    variant: str = ""                # tells apart several cases of one name
    xfail: str = ""                  # a known difference from PyTorch (a minigrad bug), strictly expected

    @property
    def id(self):
        return f"{self.name}[{self.variant}]" if self.variant else self.name


CASES = []


def case(name, call, samples, **options):
    samples = [replace(sample, number=k) for k, sample in enumerate(samples)]
    CASES.append(OpCase(name, call, samples, **options))


# --- elementwise --------------------------------------------------------------------------------

case("torch.abs", lambda lib, x: lib.abs(x), unary(NUMERIC))
case("Tensor.abs", lambda lib, x: x.abs(), unary(NUMERIC))
case("torch.abs", lambda lib, x: lib.abs(x), unary((BOOL,)), variant="bool")
for _name in ("exp", "sin", "cos", "tanh", "sigmoid"):
    case(f"torch.{_name}", lambda lib, x, _name=_name: getattr(lib, _name)(x), unary())
for _name in ("log", "sqrt"):
    case(f"torch.{_name}", lambda lib, x, _name=_name: getattr(lib, _name)(x), unary(low=0.5, high=3.0))
case("torch.log", lambda lib, x: lib.log(x), [given(np.array([-1.0, 0.0, 1.0]))], grad=False, variant="domain")
case("torch.log1p", lambda lib, x: lib.log1p(x), unary(low=-0.5, high=2.0))
case("Tensor.exp", lambda lib, x: x.exp(), unary())
case("Tensor.log", lambda lib, x: x.log(), unary(low=0.5, high=3.0))
case("Tensor.sigmoid", lambda lib, x: x.sigmoid(), unary())
case("torch.relu", lambda lib, x: lib.relu(x), unary(NUMERIC))
case("Tensor.round", lambda lib, x: x.round(), unary(FLOATS, low=-3, high=3) + unary((I64,)))
case("Tensor.round", lambda lib, x: x.round(decimals=1), [given(np.array([0.25, 1.35, -2.75]))],
     variant="decimals")
case("torch.clamp", lambda lib, x, **kw: lib.clamp(x, **kw),
     unary(NUMERIC, kwargs=({"min": -1}, {"max": 0.5}, {"min": -0.5, "max": 0.5})))
case("torch.clamp", lambda lib, x: lib.clamp(x), unary((F64,), shapes=((3,),)), variant="no bounds")
case("torch.clamp", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
     [given(array((3, 4)), array((4,), low=-2, high=-0.5), array((3, 1), low=0.5, high=2))], variant="tensor bounds")
case("Tensor.clamp", lambda lib, x, **kw: x.clamp(**kw), unary(NUMERIC, kwargs=({"min": -1}, {"min": 0, "max": 1})))
case("Tensor.clip", lambda lib, x, **kw: x.clip(**kw), unary(NUMERIC, kwargs=({"min": -1, "max": 1},)))
case("torch.clamp", lambda lib, x, **kw: lib.clamp(x, **kw),
     [given(array((3,), BOOL), min=0), given(array((3,), I64), min=0.5), given(array((3,), F32), max=np.array(0.5))],
     variant="promotion")
case("Tensor.clamp_", lambda lib, x: x.clamp_(-0.5, 0.5), unary(NUMERIC), grad=False)

case("torch.add", lambda lib, x, y: lib.add(x, y), binary())
case("torch.add", lambda lib, x, y: lib.add(x, y, alpha=2), binary(BINARY_DTYPES[:3], scalars=(), shapes=()),
     variant="alpha")
case("torch.add", lambda lib, x, y: lib.add(x, y),
     [given(array((3,), a), other) for a in ALL for b in ALL
      for other in (array((3,), b), array((), b), {F32: 1.5, F64: 1.5, I64: 2, BOOL: True}[b])]
     + [given(array((), a), array((), b)) for a in ALL for b in ALL], grad=False, variant="promotion")
case("Tensor.add", lambda lib, x, y: x.add(y), binary())
case("torch.mul", lambda lib, x, y: lib.mul(x, y), binary())
case("Tensor.mul", lambda lib, x, y: x.mul(y), binary())
case("Tensor.div", lambda lib, x, y: x.div(y), binary([(F32, F32), (F64, F64), (I64, I64), (I64, F32)],
                                                         low2=0.5, high2=3.0, scalars=(2, 2.5)))
case("Tensor.div", lambda lib, x, y, **kw: x.div(y, **kw),
     [given(array((3, 4), d, -5, 5), array((4,), d, 1, 3), rounding_mode=m)
      for d in (F64, I64) for m in ("floor", "trunc")], variant="rounding_mode")
case("torch.pow", lambda lib, x, y: lib.pow(x, y),
     binary([(F32, F32), (F64, F64), (I64, I64), (I64, F32), (F32, F64)], low=0.5, high=2.0, low2=0, high2=3,
            scalars=(2, 0.5)))
case("torch.pow", lambda lib, x, y: lib.pow(x, y), [given(2.0, array((3,))), given(2, array((3,), I64, 0, 3))],
     variant="scalar base")
case("Tensor.pow", lambda lib, x, y: x.pow(y), binary([(F64, F64), (I64, I64)], low=0.5, high=2, low2=0, high2=3,
                                                         scalars=(2, 0.5, -1.5)))
case("Tensor.eq", lambda lib, x, y: x.eq(y), binary([(F64, F64), (I64, I64), (BOOL, BOOL), (I64, F32)],
                                                       low=-1, high=1, low2=-1, high2=1, scalars=(1, 0.0)),
     grad=False)
case("torch.where", lambda lib, c, x, y: lib.where(c, x, y),
     [given(array((3, 4), BOOL), array((3, 4), a), array((4,), b)) for a, b in BINARY_DTYPES[:6]]
     + [given(array((3, 1), BOOL), array((1, 4)), array(())), given(array((0, 2), BOOL), array((2,)), array((0, 2))),
        given(array((3,), BOOL), array((3,), I64), 2.5), given(array((3,), BOOL), 1, 0),
        given(array((3,), BOOL), array((3,), F32), array((), F64)), given(array((3,), BOOL), 1.0, array((3,), I64)),
        given(array((3,), I64), array((3,)), array((3,))),
        given(array((3,), BOOL), array((3,)), 0.0), given(array((3,), BOOL), array((4,)), array((3,)))])
case("torch.where", lambda lib, c: lib.where(c), [given(array((3, 4), BOOL)), given(array((0,), BOOL))],
     variant="one argument")

for _name, _other in (("add_", array((4,))), ("mul_", array((4,))), ("div_", positive((4,)))):
    case(f"Tensor.{_name}", lambda lib, x, y, _name=_name: getattr(x, _name)(y),
         [given(array((3, 4)), _other), given(array((3, 4), F32), array((3, 4), I64)), given(array((3,)), 2.0),
          given(array((3,), I64), array((3,), I64))], grad=False)
case("Tensor.copy_", lambda lib, x, y: x.copy_(y),
     [given(array((3, 4)), array((4,))), given(array((3, 4), F32), array((3, 4), I64)),
      given(array((2, 3)), array((3, 2)))], grad=False)
case("Tensor.div_", lambda lib, x, y: x.div_(y), [given(array((3,), I64), 2)], grad=False, variant="integer")
case("Tensor.add_", lambda lib, x, y: x.add_(y), [given(array((3,), I64), 2.5), given(array((3,), I64), array((3,))),
                                                 given(array((3,), BOOL), array((3,), BOOL))],
     grad=False, variant="promotion")
case("Tensor.mul_", lambda lib, x, y: x.mul_(y), [given(array((3,), I64), 1.5), given(array((3,), F32), array(()))],
     grad=False, variant="promotion")
case("Tensor.add_", lambda lib, x, y: x.add_(y), [given(array((3,)), array((2, 3)))], grad=False, variant="shape")
case("Tensor.exp_", lambda lib, x: x.exp_(), unary(FLOATS), grad=False)
case("Tensor.fill_", lambda lib, x: x.fill_(1.5), unary(ALL), grad=False)
case("Tensor.zero_", lambda lib, x: x.zero_(), unary(ALL), grad=False)
case("Tensor.scatter_", lambda lib, x, i, s: x.scatter_(1, i, s),
     [given(np.zeros((3, 4)), np.array([[0, 1], [2, 3], [1, 0]]), array((3, 2))),
      given(np.zeros((3, 4), np.int64), np.array([[0], [2], [3]]), array((3, 1), I64))], grad=False)
case("Tensor.scatter_", lambda lib, x, i: x.scatter_(0, i, 7.0), [given(np.zeros((3, 4)), np.array([[0, 1, 2, 0]]))],
     grad=False, variant="value")


# --- operators (not census names, but every line of training code uses them) --------------------------

_operators = {
    "__add__": lambda x, y: x + y, "__radd__": lambda x, y: y + x, "__sub__": lambda x, y: x - y,
    "__rsub__": lambda x, y: y - x, "__mul__": lambda x, y: x * y, "__rmul__": lambda x, y: y * x,
    "__truediv__": lambda x, y: x / y, "__rtruediv__": lambda x, y: y / x,
    "__lt__": lambda x, y: x < y, "__le__": lambda x, y: x <= y, "__gt__": lambda x, y: x > y,
    "__ge__": lambda x, y: x >= y, "__eq__": lambda x, y: x == y, "__ne__": lambda x, y: x != y,
}
for _name, _op in _operators.items():
    _differentiable = _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                                "__truediv__", "__rtruediv__")
    _low = 0.5 if "truediv" in _name else -2.0
    case(f"Tensor.{_name}", lambda lib, x, y, _op=_op: _op(x, y),
         binary(low=_low, low2=_low, high=2.5, high2=2.5), grad=_differentiable)
case("Tensor.__floordiv__", lambda lib, x, y: x // y,
     binary([(F32, F32), (F64, F64), (I64, I64), (I64, F32)], low=-5, high=5, low2=1, high2=3, scalars=(2, 1.5)),
     grad=False)
case("Tensor.__mod__", lambda lib, x, y: x % y,
     binary([(F32, F32), (F64, F64), (I64, I64), (I64, F32)], low=-5, high=5, low2=1, high2=3, scalars=(2, 1.5)),
     grad=False)
case("Tensor.__pow__", lambda lib, x, y: x ** y,
     binary([(F32, F32), (F64, F64), (I64, I64), (I64, F32), (F32, F64)], low=0.5, high=2.0, low2=0, high2=3,
            scalars=(2, 0.5)))
case("Tensor.__rpow__", lambda lib, x, y: y ** x, [given(array((3,)), 2.0), given(array((3,), I64, 0, 3), 2),
                                                   given(array((3,), F32), 2)])
case("Tensor.__matmul__", lambda lib, x, y: x @ y, [given(array((3, 4)), array((4, 2))),
                                                    given(array((2, 3, 4)), array((4,)))])
case("Tensor.__neg__", lambda lib, x: -x, unary(ALL))
case("Tensor.__abs__", lambda lib, x: abs(x), unary(NUMERIC))
for _name, _op in {"__and__": lambda x, y: x & y, "__or__": lambda x, y: x | y,
                   "__xor__": lambda x, y: x ^ y}.items():
    case(f"Tensor.{_name}", lambda lib, x, y, _op=_op: _op(x, y),
         [given(array((3, 4), a), array((4,), b)) for a, b in ((BOOL, BOOL), (I64, I64), (BOOL, I64))]
         + [given(array((3,), BOOL), True), given(array((3,), I64), 6), given(array((3,)), array((3,)))], grad=False)
case("Tensor.__invert__", lambda lib, x: ~x, unary((BOOL, I64, F64), shapes=((3,),)), grad=False)
case("Tensor.__getitem__", lambda lib, x, *key: x[key[0] if len(key) == 1 else key],
     [given(array((4, 5)), 1), given(array((4, 5)), -1), given(array((4, 5)), slice(1, None)),
      given(array((4, 5)), slice(None, None, 2), 3), given(array((4, 5)), None, Ellipsis, 2),
      given(array((4, 5)), np.array([0, 2, 2])), given(array((4, 5)), array((4,), BOOL)),
      given(array((4, 5)), array((4, 5), BOOL)), given(array((4, 5)), np.array([[0], [3]]), np.array([1, 4])),
      given(array((4, 5)), 4), given(array((4, 5)), slice(None, None, -1)), given(array(()), Ellipsis),
      given(array((4, 5), I64), slice(1, 3))], variant="keys")


# In-place ops are recorded by autograd: on a non-leaf the gradient flows through the change; on a leaf
# that requires grad PyTorch raises.
_in_place = {
    "add_": (lambda x, y: x.add_(y), lambda: given(array((3, 4)), array((4,)))),
    "mul_": (lambda x, y: x.mul_(y), lambda: given(array((3, 4)), array((3, 1)))),
    "div_": (lambda x, y: x.div_(y), lambda: given(array((3, 4)), positive((4,)))),
    "copy_": (lambda x, y: x.copy_(y), lambda: given(array((3, 4)), array((4,)))),
    "clamp_": (lambda x: x.clamp_(-0.5, 0.5), lambda: given(array((3, 4)))),
    "exp_": (lambda x: x.exp_(), lambda: given(array((3, 4)))),
    "fill_": (lambda x: x.fill_(1.5), lambda: given(array((3, 4)))),
    "zero_": (lambda x: x.zero_(), lambda: given(array((3, 4)))),
    "scatter_": (lambda x, s: x.scatter_(1, _like(x, np.array([[0, 1], [2, 3], [1, 0]])), s),
                 lambda: given(array((3, 4)), array((3, 2)))),
}
for _name, (_op, _sample) in _in_place.items():
    case(f"Tensor.{_name}", lambda lib, x, *rest, _op=_op: _op(x * 1, *rest), [_sample()], variant="autograd")
    case(f"Tensor.{_name}", lambda lib, x, *rest, _op=_op: _op(x, *rest), [_sample()], variant="leaf")


# --- reductions ---------------------------------------------------------------------------------

case("torch.sum", lambda lib, x, **kw: lib.sum(x, **kw), reduction(ALL) + [given(array((2, 3, 4)), dim=(0, 2))])
case("torch.sum", lambda lib, x: lib.sum(x, dtype=lib.float64), unary((F32, I64), shapes=((3,),)), variant="dtype")
case("Tensor.sum", lambda lib, x, **kw: x.sum(**kw), reduction(ALL))
case("torch.mean", lambda lib, x, **kw: lib.mean(x, **kw), reduction(FLOATS) + [given(array((3,), I64))])
case("Tensor.mean", lambda lib, x, **kw: x.mean(**kw), reduction(FLOATS) + [given(array((2, 3, 4)), dim=(1, 2))])
case("torch.prod", lambda lib, x, **kw: lib.prod(x, **kw),
     reduction(ALL, kwargs=({}, {"dim": 1}, {"dim": 0, "keepdim": True})))
case("Tensor.std", lambda lib, x, **kw: x.std(**kw),
     reduction(FLOATS, kwargs=({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"unbiased": False},
                               {"dim": 1, "correction": 0})) + [given(array((3,), I64))])
case("torch.logsumexp", lambda lib, x, **kw: lib.logsumexp(x, **kw),
     [given(array((3, 4), d), dim=dm, keepdim=k) for d in FLOATS for dm in (0, 1, (0, 1)) for k in (False, True)]
     + [given(array(()), dim=0), given(array((0, 3)), dim=1), given(array((3,), I64), dim=0)])
case("torch.norm", lambda lib, x, **kw: lib.norm(x, **kw),
     [given(array((3, 4), d), **kw) for d in FLOATS
      for kw in ({}, {"p": 1}, {"p": 2, "dim": 1}, {"dim": 0, "keepdim": True}, {"p": "fro"})]
     + [given(array((0, 3))), given(array((3,), I64))])
case("Tensor.norm", lambda lib, x, **kw: x.norm(**kw),
     [given(array((3, 4)), **kw) for kw in ({}, {"p": 1, "dim": 0}, {"p": float("inf")}, {"dim": -1})])
for _name in ("max", "min"):
    _samples = ([given(array((3, 4), d, -5, 5)) for d in ALL] + [given(array((3, 4), d), dim=1) for d in NUMERIC]
                + [given(array((3, 4)), dim=0, keepdim=True), given(array(())), given(array((0, 3))),
                   given(array((0, 3)), dim=1), given(array((3, 4)), array((4,))),
                   given(array((3, 4), I64), array((3, 1), F32))])
    case(f"Tensor.{_name}", lambda lib, x, *rest, _name=_name, **kw: getattr(x, _name)(*rest, **kw), _samples)
    if _name == "max":
        case("torch.max", lambda lib, x, *rest, **kw: lib.max(x, *rest, **kw), _samples)
case("Tensor.max", lambda lib, x: x.max(), [given(np.array([1.0, 3.0, 3.0, 2.0]))], variant="ties")
case("Tensor.argmax", lambda lib, x, **kw: x.argmax(**kw),
     [given(array((3, 4), d, -5, 5), **kw) for d in NUMERIC for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True})]
     + [given(array(())), given(array((0, 3))), given(np.array([1.0, 3.0, 3.0]))], grad=False)
case("torch.argmin", lambda lib, x, **kw: lib.argmin(x, **kw),
     [given(array((3, 4), d, -5, 5), **kw) for d in NUMERIC for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True})]
     + [given(array(())), given(array((0, 3))), given(np.array([3.0, 1.0, 1.0]))], grad=False)
case("torch.sort", lambda lib, x, **kw: lib.sort(x, **kw),
     [given(distinct((3, 4), d), **kw) for d in NUMERIC for kw in ({}, {"dim": 0}, {"descending": True})]
     + [given(array(())), given(array((0,)))])
case("Tensor.sort", lambda lib, x, **kw: x.sort(**kw), [given(array((3, 4)), **kw) for kw in ({}, {"dim": 0})])
case("torch.topk", lambda lib, x, k, **kw: lib.topk(x, k, **kw),
     [given(distinct((3, 5), d), 2, **kw) for d in NUMERIC for kw in ({}, {"dim": 0}, {"largest": False})]
     + [given(array((4,)), 0), given(array((4,)), 5)])
case("Tensor.topk", lambda lib, x, k, **kw: x.topk(k, **kw), [given(array((3, 5)), 3), given(array((3, 5)), 1, dim=0)])


# --- shapes and indexing --------------------------------------------------------------------------

_shapes = [given(array((2, 3, 4), d)) for d in ALL] + [given(array((0, 3)))]
case("Tensor.reshape", lambda lib, x, *shape: x.reshape(*shape),
     [given(array((2, 3, 4), d), 4, -1) for d in ALL] + [given(array((2, 3)), 6), given(array(()), 1, 1),
                                                         given(array((0, 3)), -1, 3), given(array((2, 3)), 4, 2)])
case("Tensor.reshape", lambda lib, x: x.reshape((3, 2)), [given(array((2, 3)))], variant="tuple")
case("Tensor.view", lambda lib, x, *shape: x.view(*shape),
     [given(array((2, 3, 4), d), -1, 4) for d in ALL] + [given(array(()), 1), given(array((2, 3)), 5)])
case("Tensor.view_as", lambda lib, x, y: x.view_as(y), [given(array((2, 3)), array((3, 2))),
                                                       given(array((6,), I64), array((2, 3), I64))])
case("Tensor.flatten", lambda lib, x, **kw: x.flatten(**kw),
     [given(array((2, 3, 4), d), **kw) for d in (F64, I64) for kw in ({}, {"start_dim": 1}, {"end_dim": 1})]
     + [given(array(())), given(array((0, 3)))])
case("torch.flatten", lambda lib, x, *args: lib.flatten(x, *args),
     [given(array((2, 3, 4))), given(array((2, 3, 4)), 1), given(array((2, 3, 4), BOOL), 0, -2), given(array(()))])
case("Tensor.ravel", lambda lib, x: x.ravel(), _shapes)
case("Tensor.permute", lambda lib, x: x.permute(2, 0, 1), _shapes[:5])
case("Tensor.permute", lambda lib, x: x.permute((1, 0)), [given(array((2, 3))), given(array((2, 3)))],
     variant="tuple")
case("Tensor.transpose", lambda lib, x: x.transpose(0, -1), _shapes[:5])
case("Tensor.t", lambda lib, x: x.t(), [given(array((2, 3), d)) for d in ALL] + [given(array((3,))), given(array(())),
                                                                                given(array((2, 3, 4)))])
case("Tensor.T", lambda lib, x: x.T, [given(array((2, 3), d)) for d in ALL] + [given(array((3,))), given(array(()))])
case("Tensor.mT", lambda lib, x: x.mT, [given(array((2, 3, 4))), given(array((2, 3), I64)), given(array((3,)))])
case("Tensor.squeeze", lambda lib, x, *dim: x.squeeze(*dim),
     [given(array((1, 3, 1), d)) for d in ALL] + [given(array((1, 3, 1)), 0), given(array((1, 3, 1)), 1),
                                                  given(array(())), given(array((1, 3, 1)), (0, 2))])
case("Tensor.unsqueeze", lambda lib, x, d: x.unsqueeze(d),
     [given(array((2, 3), t), d) for t in ALL for d in (0, -1)] + [given(array(()), 0), given(array((2,)), 3)])
case("torch.unsqueeze", lambda lib, x, d: lib.unsqueeze(x, d), [given(array((2, 3)), 1), given(array((0,)), 0)])
case("Tensor.expand", lambda lib, x, *size: x.expand(*size),
     [given(array((3, 1), d), 3, 4) for d in ALL] + [given(array((3, 1)), 2, -1, 4), given(array(()), 2),
                                                     given(array((3, 2)), 3, 4)])
case("Tensor.expand_as", lambda lib, x, y: x.expand_as(y), [given(array((1, 4)), array((3, 4))),
                                                           given(array((3, 1), I64), array((2, 3, 5)))])
case("Tensor.repeat", lambda lib, x, *r: x.repeat(*r),
     [given(array((2, 3), d), 2, 1) for d in ALL] + [given(array((2, 3)), 1, 2, 2), given(array(()), 3),
                                                     given(array((2, 3)), 2)])
case("Tensor.flip", lambda lib, x, *dims: x.flip(*dims), [given(array((2, 3), d), 0) for d in ALL]
     + [given(array((2, 3, 4)), (0, 2)), given(array(()), 0)])
case("Tensor.narrow", lambda lib, x, *a: x.narrow(*a),
     [given(array((4, 5), d), 1, 1, 3) for d in (F64, I64)]
     + [given(array((4, 5)), 0, 2, 0), given(array((4,)), 0, 3, 2)])
case("Tensor.split", lambda lib, x, s, **kw: x.split(s, **kw),
     [given(array((5, 4), d), 2) for d in (F64, I64)] + [given(array((5, 4)), [1, 4]), given(array((5, 4)), 3, dim=1),
                                                         given(array((5, 4)), [2, 2])])
case("torch.chunk", lambda lib, x, c, **kw: lib.chunk(x, c, **kw),
     [given(array((5, 4), d), 2) for d in (F64, BOOL)] + [given(array((5, 4)), 3, dim=1), given(array((0, 4)), 2),
                                                          given(array((2,)), 4)])
case("torch.diag", lambda lib, x, *d: lib.diag(x, *d),
     [given(array((3,), t)) for t in ALL] + [given(array((3, 4))), given(array((3, 4)), 1), given(array((3,)), -1),
                                             given(array(()))])
case("Tensor.diag", lambda lib, x: x.diag(), [given(array((3, 3))), given(array((4,), I64))])
case("torch.diagonal", lambda lib, x, **kw: lib.diagonal(x, **kw),
     [given(array((3, 4), t)) for t in (F64, I64)] + [given(array((3, 4)), offset=1), given(array((2, 3, 4)), dim1=1,
                                                                                           dim2=2)])
case("torch.tril", lambda lib, x, *k: lib.tril(x, *k), [given(array((3, 4), t)) for t in ALL]
     + [given(array((3, 4)), 1), given(array((2, 3, 3)), -1), given(array((3,)))])
case("torch.triu", lambda lib, x, *k: lib.triu(x, *k), [given(array((3, 4), t)) for t in ALL]
     + [given(array((3, 4)), -1), given(array((2, 3, 3)), 1)])
case("torch.cat", lambda lib, *xs, **kw: lib.cat(list(xs), **kw),
     [given(array((2, 3), a), array((1, 3), b)) for a, b in BINARY_DTYPES[:6]]
     + [given(array((2, 3)), array((2, 1)), dim=1), given(array((2, 3)), array((0, 3))),
        given(array((2, 3)), array((0,))), given(array((2, 3)), array((2, 2))), given(array(()), array(()))])
case("torch.stack", lambda lib, *xs, **kw: lib.stack(list(xs), **kw),
     [given(array((2, 3), a), array((2, 3), b)) for a, b in BINARY_DTYPES[:6]]
     + [given(array((2, 3)), array((2, 3)), dim=-1), given(array(()), array(())),
        given(array((2, 3)), array((3, 2)))])
case("torch.gather", lambda lib, x, i, **kw: lib.gather(x, 1, i, **kw),
     [given(array((3, 4), t), np.array([[0, 1], [3, 3], [2, 0]])) for t in ALL]
     + [given(array((3, 4)), np.array([[4], [0], [0]])), given(array((3, 4)), np.zeros((3, 0), np.int64))])
case("Tensor.gather", lambda lib, x, i: x.gather(0, i), [given(array((3, 4)), np.array([[0, 1, 2, 2]]))])
case("Tensor.masked_fill", lambda lib, x, m, *v: x.masked_fill(m, *v) if v else x.masked_fill(m, -1.5),
     [given(array((3, 4), t), array((3, 4), BOOL)) for t in (F32, F64)]
     + [given(array((3, 4)), array((4,), BOOL)), given(array((3, 4), I64), array((3, 1), BOOL), 7),
        given(array((3, 4)), array((3, 4), BOOL), np.array(2.5))])
case("Tensor.__getitem__", lambda lib, x: x[1:, ::2], [given(array((3, 4)))])


# --- linear algebra -------------------------------------------------------------------------------

_mat = [given(array((3, 4), a), array((4, 2), b)) for a, b in ((F32, F32), (F64, F64), (I64, I64))]
case("torch.matmul", lambda lib, x, y: lib.matmul(x, y),
     _mat + [given(array((4,)), array((4,))), given(array((3, 4)), array((4,))), given(array((4,)), array((4, 2))),
             given(array((2, 1, 3, 4)), array((5, 4, 2))), given(array((0, 4)), array((4, 2))),
             given(array((3, 4)), array((3, 2))), given(array((3, 4), F32), array((4, 2), F64))])
case("Tensor.matmul", lambda lib, x, y: x.matmul(y), _mat[:2] + [given(array((2, 3, 4)), array((4,)))])
case("torch.mm", lambda lib, x, y: lib.mm(x, y), _mat + [given(array((3, 4)), array((3, 4))),
                                                       given(array((2, 3, 4)), array((4, 2)))])
case("Tensor.mm", lambda lib, x, y: x.mm(y), _mat[:2])
case("Tensor.bmm", lambda lib, x, y: x.bmm(y), [given(array((2, 3, 4), t), array((2, 4, 5), t)) for t in NUMERIC]
     + [given(array((2, 3, 4)), array((3, 4, 5))), given(array((3, 4)), array((4, 5)))])
case("torch.dot", lambda lib, x, y: lib.dot(x, y), [given(array((4,), t), array((4,), t)) for t in NUMERIC]
     + [given(array((4,)), array((3,))), given(array((0,)), array((0,))), given(array((4,), F32), array((4,)))])
case("Tensor.dot", lambda lib, x, y: x.dot(y), [given(array((4,)), array((4,)))])


# --- conversions, properties ---------------------------------------------------------------------

for _name in ("float", "double", "long"):
    case(f"Tensor.{_name}", lambda lib, x, _name=_name: getattr(x, _name)(), unary(ALL, shapes=((2, 3), ())),
         grad=_name != "long")
for _name in ("bool", "double", "float", "float32", "int64", "long"):
    case(f"torch.{_name}", lambda lib, x, _name=_name: x.to(getattr(lib, _name)), unary(ALL, shapes=((2, 3),)),
         grad=_name in ("double", "float", "float32"))
case("Tensor.to", lambda lib, x, dtype=None, **kw: x.to(getattr(lib, dtype), **kw) if dtype else x.to(**kw),
     [given(array((2, 3), t), dtype=name) for t in ALL for name in ("float32", "int64")]
     + [given(array((2, 3)), device="cpu")])
case("Tensor.to", lambda lib, x, y: x.to(y),
     [given(array((2, 3)), array((1,), F32)), given(array((2,), I64), array((1,)))],
     variant="other tensor")
case("Tensor.type", lambda lib, x: x.type(lib.float64), unary(ALL, shapes=((2,),)), grad=False)
case("Tensor.type", lambda lib, x: x.type(), unary((F32, F64, I64, BOOL), shapes=((2,),)), grad=False,
     variant="name")
case("Tensor.clone", lambda lib, x: x.clone(), unary(ALL))
case("Tensor.contiguous", lambda lib, x: x.t().contiguous(), unary(ALL, shapes=((2, 3),)))
case("Tensor.detach", lambda lib, x: (x * 2).detach(), unary(NUMERIC), grad=False)
case("Tensor.data", lambda lib, x: (x * 2).data, unary(NUMERIC), grad=False)
case("Tensor.cpu", lambda lib, x: x.cpu(), unary(ALL))
case("Tensor.numpy", lambda lib, x: lib.tensor(x.detach().numpy()), unary(ALL), grad=False)
case("Tensor.tolist", lambda lib, x: x.tolist(), unary(ALL, shapes=((2, 3), (), (0,))), grad=False)
case("Tensor.item", lambda lib, x: x.item(), [given(array((), t)) for t in ALL]
     + [given(array((1, 1))), given(array((2,)))], grad=False)
case("Tensor.size", lambda lib, x, *d: x.size(*d), [given(array((2, 3, 4))), given(array((2, 3, 4)), -1),
                                                      given(array(())), given(array((2, 3)), 2)], grad=False)
case("Tensor.shape", lambda lib, x: x.shape, [given(array((2, 3, 4))), given(array(())), given(array((0,)))],
     grad=False)
case("Tensor.dim", lambda lib, x: x.dim(), unary(ALL, shapes=((2, 3, 4), ())), grad=False)
case("Tensor.ndimension", lambda lib, x: x.ndimension(), unary((F64,), shapes=((2, 3, 4), ())), grad=False)
case("Tensor.ndim", lambda lib, x: x.ndim, unary((F64,), shapes=((2, 3, 4), ())), grad=False)
case("Tensor.numel", lambda lib, x: x.numel(), unary((F64,), shapes=((2, 3, 4), (), (0, 3))), grad=False)
case("Tensor.nelement", lambda lib, x: x.nelement(), unary((F64,), shapes=((2, 3, 4), (), (0, 3))), grad=False)
case("Tensor.dtype", lambda lib, x: x.dtype, unary(ALL, shapes=((2,),)), grad=False)
case("Tensor.device", lambda lib, x: (str(x.device), x.device.type, x.device == lib.device("cpu")), unary((F64,)),
     grad=False)
case("Tensor.is_cuda", lambda lib, x: x.is_cuda, unary((F64,), shapes=((2,),)), grad=False)
case("Tensor.requires_grad", lambda lib, x: (x.requires_grad, (x * 2).requires_grad, x.detach().requires_grad),
     unary(FLOATS, shapes=((2,),)), grad=False)
case("Tensor.requires_grad_", lambda lib, x: x.requires_grad_().requires_grad, unary(FLOATS, shapes=((2,),)),
     grad=False)
case("Tensor.requires_grad_", lambda lib, x: x.requires_grad_(), unary((I64,), shapes=((2,),)), grad=False,
     variant="integer")
case("Tensor.grad", lambda lib, x: _grad_of(lib, x), unary((F64,), shapes=((2, 3), ())), grad=False)
case("Tensor.backward", lambda lib, x: _backward(x), unary((F64,), shapes=((2, 3), ())), grad=False)
case("Tensor.cuda", lambda lib, x: x.cuda() if not lib.cuda.is_available() else lib.tensor(0.0).cuda().cpu(),
     unary((F64,), shapes=((2,),)), grad=False)
case("Tensor.new", lambda lib, x: (x.new(2, 3).shape, x.new(2, 3).dtype, x.new([1, 2]), x.new().shape),
     unary(ALL, shapes=((2,),)), grad=False)
case("Tensor.new_tensor", lambda lib, x: x.new_tensor([1, 2, 3]), unary(ALL, shapes=((2,),)), grad=False)
case("Tensor.new_zeros", lambda lib, x: x.new_zeros((2, 3)), unary(ALL, shapes=((2,),)), grad=False)


def _grad_of(lib, x):
    leaf = x.detach().clone().requires_grad_()
    before = leaf.grad
    (leaf * leaf).sum().backward()
    return before, leaf.grad, (leaf * 2).grad_fn is not None


def _backward(x):
    leaf = x.detach().clone().requires_grad_()
    (leaf ** 3).sum().backward()
    (leaf * 2).sum().backward()                # gradients accumulate
    return leaf.grad

case("Tensor.type_as", lambda lib, x, y: x.type_as(y),
     [given(array((2, 3), a), array((1,), b)) for a in ALL for b in ALL] + [given(array(()), array((0,), I64))])
case("Tensor.resize_as_", lambda lib, x, y: x.resize_as_(y),
     [given(array((2, 3), d), array((3, 2), d)) for d in ALL] + [given(array((2, 3)), array((6,), I64)),
                                                                 given(array((2, 3)), array(()))], grad=False)
case("Tensor.resize_as_", lambda lib, x, y: (lambda r: (r.shape, r.dtype))(x.resize_as_(y)),
     [given(array((2, 3)), array((4, 2))), given(array((2, 3)), array((0,)))], grad=False, variant="new size")
case("torch.cuda.set_device", lambda lib, d: lib.cuda.set_device(d) if not torch.cuda.is_available() else None,
     [given(0), given("cpu")], grad=False)


# Which calls give back the very same tensor (code relies on it: `x.cpu() is x`, in-place results).
for _name, _same in {"float": lambda x: x.float(), "double": lambda x: x.double(), "long": lambda x: x.long(),
                     "to": lambda x: x.to(x.dtype), "cpu": lambda x: x.cpu(), "contiguous": lambda x: x.contiguous(),
                     "add_": lambda x: x.add_(1), "mul_": lambda x: x.mul_(2), "zero_": lambda x: x.zero_(),
                     "fill_": lambda x: x.fill_(1), "clamp_": lambda x: x.clamp_(0, 1),
                     "requires_grad_": lambda x: x.requires_grad_(False), "type": lambda x: x.type(x.type())}.items():
    case(f"Tensor.{_name}", lambda lib, x, _same=_same: _same(x) is x, unary(NUMERIC, shapes=((2,),)), grad=False,
         variant="identity")
case("Tensor.to", lambda lib, x, **kw: x.to(lib.float64, **kw), [given(array((2,), F32), copy=True),
                                                                 given(array((2,), F64), copy=True),
                                                                 given(array((2,), F32), non_blocking=True)],
     variant="keywords")
case("Tensor.to", lambda lib, x: x.to(lib.float64, copy=True) is x, [given(array((2,), F64))], grad=False,
     variant="copy")


def _shares(view):
    """After adding 1 in place to what view(x) returns, x (changed or not)."""
    def call(lib, x):
        view(x).add_(1)
        return x
    return call


for _name, _view in {"view": lambda x: x.view(-1), "reshape": lambda x: x.reshape(3, 2), "t": lambda x: x.t(),
                     "T": lambda x: x.T, "permute": lambda x: x.permute(1, 0), "transpose": lambda x: x.transpose(0, 1),
                     "squeeze": lambda x: x.unsqueeze(0).squeeze(0), "unsqueeze": lambda x: x.unsqueeze(1),
                     "flatten": lambda x: x.flatten(), "narrow": lambda x: x.narrow(1, 1, 2),
                     "detach": lambda x: x.detach(), "data": lambda x: x.data,
                     "__getitem__": lambda x: x[1], "split": lambda x: x.split(1)[1], "diagonal": lambda x: x.diagonal(),
                     "view_as": lambda x: x.view_as(x), "clone": lambda x: x.clone(), "contiguous": lambda x: x.contiguous(),
                     "float": lambda x: x.float(), "ravel": lambda x: x.ravel()}.items():
    case(f"Tensor.{_name}" if _name != "diagonal" else "torch.diagonal", _shares(_view),
         [given(array((2, 3))), given(array((2, 3), F32))], grad=False, variant="shares memory")
case("Tensor.numpy", lambda lib, x: (lambda a: (a.__setitem__((0, 0), 7.0), x)[1])(x.numpy()),
     [given(array((2, 3))), given(array((2, 3), F32))], grad=False, variant="shares memory")
case("torch.from_numpy", lambda lib, x: (lambda t: (t.add_(1), x)[1])(lib.from_numpy(x.numpy())),
     [given(array((2, 3)))], grad=False, variant="shares memory")

# --- creation -----------------------------------------------------------------------------------

class D(str):
    """A dtype named in a sample (`D("int64")`): each side gets its own library's dtype of that name."""


case("torch.arange", lambda lib, *a, **kw: lib.arange(*a, **kw),
     [given(5), given(1, 4), given(0, 1, 0.25), given(0.0, 3), given(-3, 3, 2), given(5, dtype=D("float64")),
      given(0, 1, 0.1), given(3, 0, -0.5), given(0, 5, 0), given(2.5),
      given(0), given(3, 0), given(1, 2.5, dtype=D("int64"))], grad=False)
case("torch.linspace", lambda lib, *a, **kw: lib.linspace(*a, **kw),
     [given(0, 1, 5), given(-1, 1, 1), given(2, 3, 0), given(0, 10, 4, dtype=D("int64")),
      given(0.0, 1.0, 3, dtype=D("float64"))], grad=False)
case("torch.eye", lambda lib, *a, **kw: lib.eye(*a, **kw),
     [given(3), given(2, 3), given(0), given(3, dtype=D("int64")), given(2, dtype=D("bool"))], grad=False)
for _name in ("zeros", "ones"):
    case(f"torch.{_name}", lambda lib, *a, _name=_name, **kw: getattr(lib, _name)(*a, **kw),
         [given(2, 3), given((2, 3)), given(), given(0, 2), given(2, dtype=D("int64")), given([2], dtype=D("bool")),
          given(-1)], grad=False)
case("torch.full", lambda lib, *a, **kw: lib.full(*a, **kw),
     [given((2, 3), 1.5), given((2,), 2), given((2,), True), given((), 3.0), given((2,), 7, dtype=D("float64"))],
     grad=False)
case("torch.empty", lambda lib, *a, **kw: (lambda t: (t.shape, t.dtype))(lib.empty(*a, **kw)),
     [given(2, 3), given((0,)), given(2, dtype=D("int64"))], grad=False)
for _name in ("zeros_like", "ones_like"):
    case(f"torch.{_name}", lambda lib, x, _name=_name, **kw: getattr(lib, _name)(x, **kw),
         unary(ALL, shapes=((2, 3), (), (0,))) + [given(array((2,)), dtype=D("int64"))], grad=False)
case("torch.tensor", lambda lib, data, **kw: lib.tensor(data, **kw),
     [given([1, 2, 3]), given([1.0, 2.0]), given([True, False]), given(3.5), given(7), given([[1, 2], [3, 4.5]]),
      given([]), given([1, 2], dtype=D("float64")), given([1.5, 2.5], dtype=D("int64")), given([[1, 2], [3]]),
      given(True), given([True, 2]), given([1, 2.5]), given([1, 2], requires_grad=True),
      given([1.0, 2.0], requires_grad=True), given([[]]), given([[1.0], [2.0]], dtype=D("float32"))], grad=False)
case("torch.tensor", lambda lib, x, **kw: lib.tensor(x.detach().numpy(), **kw),
     unary(ALL, shapes=((2, 3), ())) + [given(array((2,)), requires_grad=True)], grad=False, variant="from NumPy")
case("torch.from_numpy", lambda lib, x: _from_numpy(lib, x), unary(ALL, shapes=((2, 3), ())), grad=False)
for _name in ("FloatTensor", "LongTensor", "ByteTensor", "Tensor"):
    case(f"torch.{_name}", lambda lib, *a, _name=_name: (lambda t: (t.shape, t.dtype))(getattr(lib, _name)(*a)),
         [given(2, 3), given(0), given()], grad=False)
    case(f"torch.{_name}", lambda lib, *a, _name=_name: getattr(lib, _name)(*a),
         [given([1, 2]), given([[1.5, 2.0]]), given([True])], grad=False, variant="data")
for _name in ("FloatTensor", "LongTensor", "ByteTensor"):
    case(f"torch.cuda.{_name}", lambda lib, *a, _name=_name: (
        getattr(lib.cuda, _name)(*a) if not lib.cuda.is_available() else lib.zeros(0)),
        [given(2), given([1, 2])], grad=False)


def _from_numpy(lib, x):
    values = x.detach().numpy().copy()
    shared = lib.from_numpy(values)
    values[...] = 1                         # the tensor shares the array's memory
    return shared


# --- random numbers: compared through statistics that hold with overwhelming probability -----------

def _uniform_stats(t, low=0.0, high=1.0, mean=None):
    """Shape, dtype, every value in [low, high), and (for 1000 values or more) the mean near `mean`."""
    big = t.numel() >= 1000
    mean = (low + high) / 2 if mean is None else mean
    return (t.shape, t.dtype, bool((t >= low).all()), bool((t < high).all()),
            bool(abs(t.double().mean().item() - mean) < 0.05 * (high - low)) if big else None)


def _integer_stats(t, low, high):
    return _uniform_stats(t, low, high, mean=(low + high - 1) / 2)


def _normal_stats(t, mean=0.0, std=1.0):
    big = t.numel() >= 1000
    return (t.shape, t.dtype, bool(abs(t.double().mean().item() - mean) < 0.1 * std) if big else None,
            bool(abs(t.double().std().item() - std) < 0.1 * std) if big else None)


case("torch.rand", lambda lib, *a, **kw: _uniform_stats(lib.rand(*a, **kw)),
     [given(40, 50), given((2000,)), given(0), given(), given(3, dtype=D("float64")), given(2, dtype=D("int64"))],
     grad=False)
case("torch.randn", lambda lib, *a, **kw: _normal_stats(lib.randn(*a, **kw)),
     [given(40, 50), given((2000,)), given(0), given(3, dtype=D("float64"))], grad=False)
case("torch.rand_like", lambda lib, x: _uniform_stats(lib.rand_like(x)),
     [given(array((40, 50), F32)), given(array((3,), F64)), given(array((3,), I64))], grad=False)
case("torch.randn_like", lambda lib, x: _normal_stats(lib.randn_like(x)),
     [given(array((40, 50), F32)), given(array((3,), F64)), given(array((3,), I64))], grad=False)
case("torch.randint", lambda lib, *a, **kw: _integer_stats(lib.randint(*a, **kw), a[0] if len(a) == 3 else 0,
                                                           a[-2]),
     [given(10, (4000,)), given(-3, 3, (40, 50)), given(5, (0,)), given(0, 2, (3,), dtype=D("float64")),
      given(3, 3, (2,))], grad=False)
case("torch.randperm", lambda lib, n, **kw: (lambda p: (p.dtype, p.sort()[0]))(lib.randperm(n, **kw)),
     [given(10), given(0), given(5, dtype=D("float64"))], grad=False)
case("torch.normal", lambda lib, *a, **kw: _normal_stats(lib.normal(*a, **kw), 2.0, 0.5),
     [given(2.0, 0.5, (40, 50)), given(2.0, 0.5, size=(2000,))], grad=False)
case("torch.normal", lambda lib, m, s: _normal_stats(lib.normal(m, s), 2.0, 0.5) + (lib.normal(m, s).shape,),
     [given(np.full((40, 50), 2.0), np.full((40, 50), 0.5)), given(np.full((2000,), 2.0, np.float32), 0.5)],
     grad=False, variant="tensors")
case("torch.multinomial", lambda lib, p, n, **kw: _multinomial_stats(lib.multinomial(p, n, **kw), p.shape[-1]),
     [given(np.array([0.1, 0.0, 0.6, 0.3]), 2), given(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), 2),
      given(np.array([0.2, 0.8]), 500, replacement=True), given(np.array([0.2, 0.8]), 3)], grad=False)
case("Tensor.uniform_", lambda lib, x: _uniform_stats(x.uniform_(-2, 3), -2, 3),
     unary(FLOATS, shapes=((40, 50), (0,))), grad=False)
case("Tensor.normal_", lambda lib, x: _normal_stats(x.normal_(2.0, 0.5), 2.0, 0.5),
     unary(FLOATS, shapes=((40, 50), (0,))), grad=False)
case("Tensor.random_", lambda lib, x, *a: _integer_stats(x.random_(*a), a[0] if len(a) == 2 else 0, a[-1]),
     [given(array((40, 50), F32), 0, 10), given(array((4000,), I64), 5), given(array((3,), F64), -4, 4)], grad=False)
case("Tensor.bernoulli_", lambda lib, x, *a: _uniform_stats(x.bernoulli_(*a), 0, 1.5, mean=a[0]),
     [given(array((40, 50), F32), 0.5), given(array((4000,), F64), 0.75), given(array((3,), I64), 0.5)], grad=False)
case("Tensor.bernoulli_", lambda lib, x, *a: (x.bernoulli_(*a).mean().item() > 0.7) and (x.mean().item() < 0.8),
     [given(array((4000,), F64), 0.75)], grad=False, variant="mean")


def _multinomial_stats(t, categories):
    rows = t if t.dim() == 2 else t.unsqueeze(0)
    distinct = all(len(set(r.tolist())) == len(r.tolist()) for r in rows) if t.shape[-1] <= categories else None
    return t.shape, t.dtype, bool((t >= 0).all()), bool((t < categories).all()), distinct


# --- comparisons ----------------------------------------------------------------------------------

case("torch.allclose", lambda lib, x, y, **kw: lib.allclose(x, y, **kw),
     [given(array((3,)), array((3,))), given(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])),
      given(np.array([1.0, np.nan]), np.array([1.0, np.nan])),
      given(np.array([1.0, np.nan]), np.array([1.0, np.nan]), equal_nan=True),
      given(np.array([1.0, 2.0]), np.array([1.1, 2.0]), atol=0.2), given(array((3,)), array((2,))),
      given(array((3, 2)), array((2,)))], grad=False)
case("torch.equal", lambda lib, x, y: lib.equal(x, y),
     [given(np.array([1.0, 2.0]), np.array([1.0, 2.0])), given(np.array([1.0, 2.0]), np.array([1.0, 3.0])),
      given(array((3,)), array((2,))), given(np.array([1, 2]), np.array([1.0, 2.0])),
      given(array((0,)), array((0,)))], grad=False)


# --- torch.nn.functional --------------------------------------------------------------------------

def functional(name, samples, **options):
    case(f"torch.nn.functional.{name}",
         lambda lib, *a, **kw: getattr(lib.nn.functional, name)(*a, **kw), samples, **options)


functional("relu", unary(ALL))
functional("relu", unary((F64,), kwargs=({"inplace": True},)), grad=False, variant="inplace")
functional("sigmoid", unary(ALL))
functional("tanh", unary(ALL))
functional("softplus", unary(FLOATS, low=-30, high=30, kwargs=({}, {"beta": 2.0}, {"beta": 0.5, "threshold": 3}))
           + unary((I64, BOOL), shapes=((3,),)))
functional("elu", unary(FLOATS, kwargs=({}, {"alpha": 0.5})) + unary((I64, BOOL), shapes=((3,),)))
functional("elu", unary((F64,), kwargs=({"inplace": True},)), grad=False, variant="inplace")
functional("softmax", [given(array((3, 4), d), dim=k) for d in FLOATS for k in (0, 1, -1)]
           + [given(array((3, 4), I64), dim=1), given(array((3, 4), I64), dim=1, dtype=D("float32"))]
           + [given(array(()), dim=0), given(array((0, 3)), dim=1), given(array((2, 3)), dim=1, dtype=D("float64")),
              given(array((2, 3), F32, -100, 100), dim=1)])
functional("log_softmax", [given(array((3, 4), d), dim=k) for d in FLOATS for k in (0, 1, -1)]
           + [given(array((3, 4), I64), dim=1), given(array((3, 4), F32), dim=1, dtype=D("float64"))]
           + [given(array(()), dim=0), given(array((0, 3)), dim=1), given(array((2, 3), F32, -100, 100), dim=1)])
functional("one_hot", [given(np.array([0, 2, 1])), given(np.array([[0, 2], [1, 1]]), num_classes=4),
                       given(np.zeros((0,), np.int64), num_classes=3), given(np.array(1), num_classes=3),
                       given(np.array([0, 3]), num_classes=2), given(np.array([0.0, 1.0]))], grad=False)
functional("dropout", [given(array((3, 4), d), training=False) for d in FLOATS] + [given(array((3, 4)), p=0.0)])
case("torch.nn.functional.dropout", lambda lib, x, **kw: _dropout_stats(lib.nn.functional.dropout(x, **kw), x, 0.3),
     [given(positive((4000,)), p=0.3), given(positive((40, 50), F32), p=0.3, training=True)], grad=False,
     variant="statistics")
functional("dropout", [given(array((3,)), p=1.5)], variant="error")
case("torch.nn.Dropout", lambda lib, x: _dropout_stats(lib.nn.Dropout(0.3)(x), x, 0.3),
     [given(positive((4000,))), given(positive((40, 50), F32))], grad=False, variant="statistics")
case("torch.nn.Dropout2d", lambda lib, x: _dropout2d_stats(lib.nn.Dropout2d(0.25)(x), x, 0.25),
     [given(positive((40, 50, 2, 3))), given(positive((20, 100, 1, 1), F32))], grad=False, variant="statistics")


def _dropout2d_stats(y, x, p):
    """Whole channels are dropped (all zero) or kept and scaled by 1 / (1 - p)."""
    kept = (y != 0).double().mean((2, 3))
    whole = bool(((kept == 0) | (kept == 1)).all())
    return _dropout_stats(y, x, p) + (whole,)


def _dropout_stats(y, x, p):
    kept = y != 0
    scaled = ((y - x / (1 - p)).abs() < 1e-4) | ~kept
    return y.dtype, y.shape, bool(scaled.all()), bool(abs(1 - kept.double().mean().item() - p) < 0.05)


functional("adaptive_avg_pool2d", [given(array((2, 3, 5, 7), d), s) for d in FLOATS for s in (1, (2, 3), 4)]
           + [given(array((3, 5, 7)), (None, 2)), given(array((2, 3, 4, 4)), 8)])
functional("avg_pool2d", [given(array((2, 3, 6, 7), d), 2) for d in FLOATS]
           + [given(array((1, 2, 6, 7)), 3, stride=2, padding=1),
              given(array((1, 2, 6, 7)), 3, stride=2, padding=1, count_include_pad=False),
              given(array((1, 2, 6, 7)), (2, 3), ceil_mode=True), given(array((2, 6, 7)), 2),
              given(array((1, 1, 2, 2)), 3)])
functional("max_pool2d", [given(array((2, 3, 6, 7), d), 2) for d in FLOATS]
           + [given(array((1, 2, 6, 7)), 3, stride=2, padding=1), given(array((1, 2, 7, 7)), 2, dilation=2),
              given(array((1, 2, 6, 7)), (2, 3), ceil_mode=True), given(array((2, 6, 7)), 2),
              given(array((1, 2, 6, 7)), 2, return_indices=True), given(array((1, 1, 2, 2)), 3)])
functional("conv2d", [given(array((2, 3, 6, 5), d), array((4, 3, 3, 3), d), array((4,), d)) for d in FLOATS]
           + [given(array((2, 3, 6, 5)), array((4, 3, 3, 2)), None, stride=2, padding=1),
              given(array((1, 3, 6, 5)), array((2, 3, 3, 3)), array((2,)), padding=(2, 1), dilation=2),
              given(array((3, 6, 5)), array((2, 3, 3, 3))), given(array((1, 2, 6, 5)), array((2, 3, 3, 3))),
              given(array((1, 3, 6, 5)), array((2, 3, 3, 3)), None, padding="same")])
functional("interpolate", [given(array((1, 2, 3, 4), d), scale_factor=2) for d in FLOATS]
           + [given(array((1, 2, 3, 4)), size=(5, 7)), given(array((1, 2, 3, 4)), size=(5, 7), mode="bilinear"),
              given(array((1, 2, 3, 4)), scale_factor=2, mode="bilinear", align_corners=True),
              given(array((1, 2, 3, 4)), scale_factor=(2, 1.5), mode="bilinear"),
              given(array((1, 2, 5)), scale_factor=2, mode="linear"), given(array((1, 2, 6, 6)), size=4),
              given(array((1, 2, 4, 4)), scale_factor=1.5), given(array((1, 2, 5)), size=7),
              given(array((1, 2, 4, 4)), scale_factor=0.5, mode="bilinear"),
              given(array((1, 2, 3, 4)), size=(5, 7), mode="bilinear", align_corners=True),
              given(array((1, 2, 3, 4)))])
functional("batch_norm", [given(array((4, 3, 2, 2), d), np.zeros(3, d), np.ones(3, d), grad=(0,)) for d in FLOATS]
           + [given(array((4, 3)), array((3,)), positive((3,)), array((3,)), array((3,)), training=True,
                    momentum=0.2, grad=(0, 3, 4)),
              given(array((4, 3)), array((3,)), positive((3,)), array((3,)), array((3,)), training=False,
                    grad=(0, 3, 4)),
              given(array((4, 3, 5)), None, None, training=True, eps=0.1)])
case("torch.nn.functional.batch_norm",
     lambda lib, x, m, v: (lib.nn.functional.batch_norm(x, m, v, training=True, momentum=0.3), m, v),
     [given(array((4, 3, 5)), array((3,)), positive((3,)), grad=(0,))], variant="running statistics")
_loss_reductions = ({}, {"reduction": "sum"}, {"reduction": "none"})
functional("mse_loss", [given(array((3, 4), d), array((3, 4), d), **kw) for d in FLOATS for kw in _loss_reductions]
           + [given(array(()), array(())), given(array((0, 2)), array((0, 2))), given(array((3,)), array((3,), I64)),
              given(array((3,), I64), array((3,), I64)), given(array((3,), F32), array((3,), F64))])
# (N, 1) against (N,): PyTorch broadcasts with a warning, minigrad raises (docs/differences.md).
functional("l1_loss", [given(array((3, 4), d), array((3, 4), d), **kw) for d in FLOATS for kw in _loss_reductions]
           + [given(array(()), array(())), given(array((0, 2)), array((0, 2)))])
functional("smooth_l1_loss", [given(array((3, 4), d), array((3, 4), d), **kw) for d in FLOATS
                              for kw in _loss_reductions + ({"beta": 0.5},)]
           + [given(array((3,)), array((3,)), beta=0.0)])
functional("binary_cross_entropy", [given(array((3, 4), d, 0.05, 0.95), array((3, 4), d, 0, 1), **kw)
                                    for d in FLOATS for kw in _loss_reductions]
           + [given(array((3, 4), F64, 0.05, 0.95), array((3, 4), F64, 0, 1), array((4,), F64, 0, 1), grad=(0,)),
              given(np.array([0.0, 1.0]), np.array([0.0, 1.0]), grad=()),
              given(array((3,), F64, 0.1, 0.9), array((3,), I64, 0, 1))])
functional("binary_cross_entropy_with_logits", [given(array((3, 4), d, -30, 30), array((3, 4), d, 0, 1), **kw)
                                                for d in FLOATS for kw in _loss_reductions]
           + [given(array((3, 4)), array((3, 4), F64, 0, 1), array((4,), F64, 0, 1), grad=(0, 1)),
              given(array((3, 4)), array((3, 4), F64, 0, 1), None, pos_weight=np.array([1.0, 2.0, 0.5, 3.0]),
                    grad=(0, 1))])
functional("cross_entropy", [given(array((4, 5), d), np.array([0, 4, 2, 2]), **kw) for d in FLOATS
                             for kw in _loss_reductions]
           + [given(array((4, 5)), np.array([0, 4, -100, 2])),
              given(array((4, 5)), np.array([0, 4, 1, 2]), ignore_index=1),
              given(array((4, 5)), np.array([0, 4, 1, 2]), array((5,), F64, 0.5, 2), grad=(0,)),
              given(array((2, 5, 3, 2)), np.array([[[0, 1], [2, 3], [4, 0]], [[1, 1], [2, 2], [3, 3]]])),
              given(array((5,)), np.array(3)), given(array((4, 5)), np.array([0, 5, 1, 2]))])
functional("nll_loss", [given(array((4, 5), d), np.array([0, 4, 2, 2]), **kw) for d in FLOATS
                        for kw in _loss_reductions]
           + [given(array((4, 5)), np.array([0, 4, 1, 2]), array((5,), F64, 0.5, 2), grad=(0,)),
              given(array((4, 5)), np.array([0, 4, -100, 2])), given(array((4, 5)), np.array([0, 7, 1, 2]))])


# --- nn modules -----------------------------------------------------------------------------------

@dataclass
class ModuleCase:
    """An nn module built from the same arguments in both libraries, in float64; torch's copy loads
    minigrad's state_dict. Outputs, input gradients and parameter gradients are compared (and the
    state_dict afterwards: running statistics)."""
    name: str
    make: Callable                   # make(nn) -> module
    samples: list                    # Sample(args=(arrays...)); inputs differentiated: Sample.grad or (0,)
    train: bool = True
    variant: str = ""
    xfail: str = ""
    output: Callable = None          # output(out) -> the part compared and differentiated

    @property
    def id(self):
        return f"{self.name}[{self.variant}]" if self.variant else self.name


MODULES = []


def module(name, make, samples, **options):
    MODULES.append(ModuleCase(f"torch.nn.{name}", make, list(samples), **options))


def inputs(*shapes, low=-2.0, high=2.0):
    return given(*[array(s, F64, low, high) for s in shapes])


module("Linear", lambda nn: nn.Linear(5, 3), [inputs((4, 5)), inputs((2, 4, 5)), inputs((5,)), inputs((0, 5)),
                                             inputs((4, 6))])
module("Linear", lambda nn: nn.Linear(5, 3, bias=False), [inputs((4, 5))], variant="no bias")
module("Conv2d", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1), [inputs((2, 3, 7, 6)), inputs((2, 2, 7, 6))])
module("Conv2d", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1), [inputs((3, 5, 5))], variant="unbatched")
module("Conv2d", lambda nn: nn.Conv2d(3, 2, (3, 2), padding=(1, 2), dilation=(1, 2), bias=False),
       [inputs((1, 3, 6, 6))], variant="no bias")
for _mode in ("reflect", "replicate", "circular"):
    module("Conv2d", lambda nn, _mode=_mode: nn.Conv2d(3, 2, 3, padding=1, padding_mode=_mode),
           [inputs((1, 3, 5, 6))], variant=f"padding_mode {_mode}")
module("Conv2d", lambda nn: nn.Conv2d(3, 2, 3, padding="same"), [inputs((1, 3, 5, 6))], variant="padding same")
module("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), [inputs((2, 3, 4, 5))])
module("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1, bias=False),
       [inputs((1, 3, 4, 4))], variant="output padding")
module("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), [inputs((5, 3)), inputs((4, 3, 6)), inputs((5, 4)),
                                                     inputs((1, 3))])
module("BatchNorm1d", lambda nn: nn.BatchNorm1d(3), [inputs((5, 3))], train=False, variant="eval")
module("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, momentum=0.2), [inputs((2, 3, 4, 5))])
module("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, affine=False), [inputs((2, 3, 4, 5))], train=False, variant="eval")
module("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, momentum=None), [inputs((2, 3, 4, 5))], variant="cumulative")
module("BatchNorm2d", lambda nn: nn.BatchNorm2d(3, track_running_stats=False), [inputs((2, 3, 4, 5))], train=False,
       variant="no running statistics")
module("BatchNorm1d", lambda nn: nn.BatchNorm1d(3, eps=0.1, affine=False), [inputs((5, 3))], variant="no affine")
module("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3), [inputs((2, 3, 4, 5)), inputs((3, 4, 5))])
module("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
       [inputs((2, 3, 4, 5))], variant="affine")
module("LayerNorm", lambda nn: nn.LayerNorm(4), [inputs((3, 4)), inputs((2, 3, 4))])
module("LayerNorm", lambda nn: nn.LayerNorm((3, 4), elementwise_affine=False), [inputs((2, 3, 4))], variant="shape")
module("LayerNorm", lambda nn: nn.LayerNorm(4, eps=0.1, bias=False), [inputs((3, 4))], variant="no bias")
module("Embedding", lambda nn: nn.Embedding(10, 3), [given(np.array([[1, 2, 9], [0, 2, 2]]), grad=()),
                                                     given(np.array(4), grad=()), given(np.array([10]), grad=()),
                                                     given(np.array([1.0]), grad=())])
module("Dropout", lambda nn: nn.Dropout(0.5), [inputs((3, 4))], train=False)
module("Dropout", lambda nn: nn.Dropout(0.0), [inputs((3, 4))], variant="p=0")
module("Dropout2d", lambda nn: nn.Dropout2d(0.5), [inputs((2, 3, 4, 4))], train=False)
for _name, _make in [("ReLU", lambda nn: nn.ReLU()), ("ReLU", lambda nn: nn.ReLU(inplace=True)),
                     ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2)), ("LeakyReLU", lambda nn: nn.LeakyReLU()),
                     ("Sigmoid", lambda nn: nn.Sigmoid()), ("Tanh", lambda nn: nn.Tanh()),
                     ("Hardtanh", lambda nn: nn.Hardtanh()), ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 1.5)),
                     ("Softmax", lambda nn: nn.Softmax(dim=1)), ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1)),
                     ("PReLU", lambda nn: nn.PReLU()), ("PReLU", lambda nn: nn.PReLU(3, init=0.1))]:
    module(_name, _make, [inputs((2, 3, 4)), inputs((2, 3))], variant=str(len([m for m in MODULES
                                                                            if m.name.endswith("." + _name)])))
module("MaxPool2d", lambda nn: nn.MaxPool2d(2), [inputs((2, 3, 6, 7))])
module("MaxPool2d", lambda nn: nn.MaxPool2d(3, stride=2, padding=1), [inputs((1, 2, 6, 7))], variant="padding")
module("MaxPool2d", lambda nn: nn.MaxPool2d((2, 3), ceil_mode=True, return_indices=True), [inputs((1, 2, 5, 7))],
       variant="ceil mode, indices")
module("AvgPool2d", lambda nn: nn.AvgPool2d(2), [inputs((2, 3, 6, 7))])
module("AvgPool2d", lambda nn: nn.AvgPool2d(3, stride=2, padding=1), [inputs((1, 2, 6, 7))], variant="padding")
module("AvgPool2d", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
       [inputs((1, 2, 6, 7))], variant="count_include_pad")
module("AvgPool2d", lambda nn: nn.AvgPool2d(2, divisor_override=3), [inputs((1, 2, 6, 7))], variant="divisor")
module("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((2, 3)), [inputs((2, 3, 5, 7))])
module("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d(1), [inputs((2, 3, 5, 7))], variant="1")
module("PixelShuffle", lambda nn: nn.PixelShuffle(2), [inputs((2, 8, 3, 4)), inputs((8, 2, 2))])
module("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(2), [inputs((1, 2, 4, 5))])
module("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 0, 2, 1)), [inputs((1, 2, 4, 5))], variant="tuple")
module("ZeroPad2d", lambda nn: nn.ZeroPad2d(2), [inputs((1, 2, 4, 5))])
module("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), [inputs((2, 4, 5))], variant="tuple")
module("Upsample", lambda nn: nn.Upsample(scale_factor=2), [inputs((1, 2, 3, 4))])
module("Upsample", lambda nn: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False), [inputs((1, 2, 3, 4))],
       variant="bilinear")
module("Upsample", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), [inputs((1, 2, 3, 4))],
       variant="align corners")
module("Sequential", lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), [inputs((5, 4))])
module("ModuleList", lambda nn: _Stack(nn, nn.ModuleList([nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)])),
       [inputs((5, 4))])
module("ModuleDict", lambda nn: _Stack(nn, nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Sigmoid()})), [inputs((5, 4))])
module("Module", lambda nn: _Stack(nn, [nn.Linear(4, 3), nn.Linear(3, 2)]), [inputs((5, 4))])
module("Parameter", lambda nn: _Scale(nn), [inputs((2, 3))])
for _loss, _targets in [("MSELoss", lambda: array((3, 4))), ("L1Loss", lambda: array((3, 4))),
                        ("BCELoss", lambda: array((3, 4), F64, 0, 1))]:
    module(_loss, lambda nn, _loss=_loss: getattr(nn, _loss)(),
           [given(array((3, 4), F64, 0.05, 0.95), _targets(), grad=(0,))])
    module(_loss, lambda nn, _loss=_loss: getattr(nn, _loss)(reduction="sum"),
           [given(array((3, 4), F64, 0.05, 0.95), _targets(), grad=(0,))], variant="sum")
    module(_loss, lambda nn, _loss=_loss: getattr(nn, _loss)(reduction="none"),
           [given(array((3, 4), F64, 0.05, 0.95), _targets(), grad=(0,)),
            given(array((3, 4), F64, 0.05, 0.95), array((3, 5)), grad=(0,))], variant="none")
module("BCELoss", lambda nn: nn.BCELoss(weight=_like(nn, np.array([1.0, 2.0, 0.5, 3.0]))),
       [given(array((3, 4), F64, 0.05, 0.95), array((3, 4), F64, 0, 1), grad=(0,))], variant="weight")
module("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(),
       [given(array((3, 4)), array((3, 4), F64, 0, 1), grad=(0,))])
module("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(pos_weight=_like(nn, np.array([1.0, 2.0, 0.5, 3.0]))),
       [given(array((3, 4)), array((3, 4), F64, 0, 1), grad=(0,))], variant="pos_weight")
module("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), [given(array((4, 5)), np.array([0, 4, 2, 2]), grad=(0,))])
module("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(weight=_like(nn, np.array([1.0, 2, 3, 1, 0.5])),
                                                          ignore_index=2, reduction="sum"),
       [given(array((4, 5)), np.array([0, 4, 2, 1]), grad=(0,))], variant="weight")
module("NLLLoss", lambda nn: nn.NLLLoss(), [given(array((4, 5)), np.array([0, 4, 2, 2]), grad=(0,))])
module("NLLLoss", lambda nn: nn.NLLLoss(weight=_like(nn, np.array([1.0, 2, 3, 1, 0.5]))),
       [given(array((4, 5)), np.array([0, 4, 2, 1]), grad=(0,))], variant="weight")
module("RNN", lambda nn: nn.RNN(3, 4, num_layers=2), [inputs((5, 2, 3)), inputs((5, 3))])
module("RNN", lambda nn: nn.RNN(3, 4, batch_first=True, nonlinearity="relu", bidirectional=True),
       [inputs((2, 5, 3)), inputs((2, 5, 3), (2, 2, 4))], variant="bidirectional")
module("GRU", lambda nn: nn.GRU(3, 4), [inputs((5, 2, 3)), inputs((5, 2, 3), (1, 2, 4))])
module("GRU", lambda nn: nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True, bias=False),
       [inputs((2, 5, 3))], variant="two layers, bidirectional")
module("GRU", lambda nn: nn.GRU(3, 4, num_layers=2, dropout=0.5), [inputs((5, 2, 3))], train=False,
       variant="dropout, eval")
module("LSTM", lambda nn: nn.LSTM(3, 4, num_layers=2, batch_first=True), [inputs((2, 5, 3))])
module("LSTM", lambda nn: nn.LSTM(3, 4), [given(array((5, 2, 3)), (array((1, 2, 4)), array((1, 2, 4))))],
       variant="state")
module("LSTMCell", lambda nn: nn.LSTMCell(3, 4), [inputs((2, 3)), inputs((3,))])
module("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2), [inputs((5, 2, 8), (4, 2, 8), (4, 2, 8))])
module("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
       [inputs((2, 5, 8), (2, 4, 8), (2, 4, 8))], variant="batch first")
module("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False),
       [inputs((5, 2, 8), (4, 2, 3), (4, 2, 5))], variant="kdim vdim")
module("MultiheadAttention", lambda nn: nn.MultiheadAttention(8, 2),
       [given(array((5, 2, 8)), array((4, 2, 8)), array((4, 2, 8)),
              key_padding_mask=np.array([[False, False, True, True], [False, False, False, True]]),
              average_attn_weights=False, grad=(0, 1, 2)),
        given(array((4, 2, 8)), array((4, 2, 8)), array((4, 2, 8)), attn_mask=np.triu(np.ones((4, 4), bool), 1),
              need_weights=False, grad=(0, 1, 2)),
        given(array((4, 2, 8)), array((4, 2, 8)), array((4, 2, 8)), is_causal=True,
              attn_mask=np.triu(np.ones((4, 4), bool), 1), grad=(0, 1, 2))], variant="masks")
module("TransformerEncoderLayer", lambda nn: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
       [inputs((5, 2, 8))])
module("TransformerEncoderLayer", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True,
                                                                       norm_first=True),
       [inputs((2, 5, 8))], train=False, variant="norm first")
module("TransformerEncoder", lambda nn: nn.TransformerEncoder(
    nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), num_layers=2, enable_nested_tensor=False),
       [inputs((5, 2, 8))])
module("Transformer", lambda nn: nn.Transformer(8, 2, 1, 1, dim_feedforward=16, dropout=0.0),
       [inputs((5, 2, 8), (4, 2, 8)),
        given(array((5, 2, 8)), array((4, 2, 8)), tgt_mask=np.triu(np.full((4, 4), -np.inf), 1), grad=(0, 1)),
        given(array((5, 2, 8)), array((4, 2, 8)), tgt_mask=np.triu(np.ones((4, 4), bool), 1),
              src_key_padding_mask=np.array([[False] * 4 + [True], [False] * 5]), grad=(0, 1))])
module("TransformerEncoder", lambda nn: nn.TransformerEncoder(
    nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, activation="gelu"),
    num_layers=2, norm=nn.LayerNorm(8), enable_nested_tensor=False),
       [given(array((2, 5, 8)), mask=np.triu(np.ones((5, 5), bool), 1), grad=(0,)),
        given(array((2, 5, 8)), src_key_padding_mask=np.array([[False] * 4 + [True], [False] * 5]), grad=(0,))],
       variant="masks, norm, gelu")


def _like(like, values):
    """A tensor of the same library as `like` (torch.nn or minigrad.nn, or a tensor of either)."""
    return torch.tensor(values) if like is torch.nn or isinstance(like, torch.Tensor) else mg.tensor(values)


def _Stack(nn, layers):
    """A user-defined Module holding `layers` (a ModuleList, a ModuleDict or plain attributes)."""
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            if isinstance(layers, list):
                for i, layer in enumerate(layers):
                    setattr(self, f"layer{i}", layer)
                self.layers = None
            else:
                self.layers = layers

        def forward(self, x):
            children = (self.layers.values() if hasattr(self.layers, "values") else self.layers
                        ) if self.layers is not None else [getattr(self, f"layer{i}") for i in range(len(layers))]
            for layer in children:
                x = layer(x)
            return x
    return Stack()


def _Scale(nn):
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(_like(nn, np.array([1.5, -0.5, 2.0])))

        def forward(self, x):
            return x * self.scale
    return Scale()


# --- nn.init and nn.utils ---------------------------------------------------------------------------

def _init(name, *args, **kw):
    return lambda lib, w: getattr(lib.nn.init, name)(w, *args, **kw)


case("torch.nn.init.zeros_", _init("zeros_"), unary(FLOATS, shapes=((3, 4), (0,))), grad=False)
case("torch.nn.init.ones_", _init("ones_"), unary(FLOATS, shapes=((3, 4), ())), grad=False)
case("torch.nn.init.constant_", _init("constant_", 0.25), unary(FLOATS, shapes=((3, 4), ())), grad=False)
case("torch.nn.init.calculate_gain", lambda lib, *a: lib.nn.init.calculate_gain(*a),
     [given(n) for n in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu")]
     + [given("leaky_relu"), given("leaky_relu", 0.2), given("leaky_relu", 2), given("nonsense"),
        given("leaky_relu", "x")], grad=False)
case("torch.nn.init.uniform_", lambda lib, w: _uniform_stats(lib.nn.init.uniform_(w, -0.5, 1.5), -0.5, 1.5),
     unary(FLOATS, shapes=((40, 50), (0,))), grad=False)
case("torch.nn.init.normal_", lambda lib, w: _normal_stats(lib.nn.init.normal_(w, 1.0, 0.2), 1.0, 0.2),
     unary(FLOATS, shapes=((40, 50), (0,))), grad=False)
_xavier_bound = math.sqrt(6 / (40 + 50))
case("torch.nn.init.xavier_uniform_", lambda lib, w, **kw: _uniform_stats(
    lib.nn.init.xavier_uniform_(w, **kw), -_xavier_bound * kw.get("gain", 1), _xavier_bound * kw.get("gain", 1)),
     [given(array((40, 50), d), **kw) for d in FLOATS for kw in ({}, {"gain": 2.0})] + [given(array((3,)))],
     grad=False)
case("torch.nn.init.xavier_normal_", lambda lib, w, **kw: _normal_stats(
    lib.nn.init.xavier_normal_(w, **kw), 0.0, math.sqrt(2 / (40 + 50)) * kw.get("gain", 1)),
     [given(array((40, 50), d), **kw) for d in FLOATS for kw in ({}, {"gain": 2.0})] + [given(array((3,)))],
     grad=False)
case("torch.nn.init.constant", _init("constant", 0.25), unary(FLOATS, shapes=((3, 4),)), grad=False)
case("torch.nn.init.normal", lambda lib, w: _normal_stats(lib.nn.init.normal(w, 1.0, 0.2), 1.0, 0.2),
     unary(FLOATS, shapes=((40, 50),)), grad=False)
for _name in ("kaiming_normal", "kaiming_normal_"):
    case(f"torch.nn.init.{_name}", lambda lib, w, _name=_name, **kw: _normal_stats(
        getattr(lib.nn.init, _name)(w, **kw), 0.0, _kaiming_std(w.shape, **kw)),
        [given(array((40, 50), d), **kw) for d in FLOATS
         for kw in ({}, {"mode": "fan_out"}, {"a": 0.2, "nonlinearity": "leaky_relu"},
                    {"nonlinearity": "linear"})]
        + [given(array((20, 5, 3, 3))), given(array((3,))), given(array((4, 5)), mode="nonsense")], grad=False)


def _kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan = (shape[1] if mode == "fan_in" else shape[0]) * receptive if len(shape) > 1 else 1
    gain = {"relu": math.sqrt(2.0), "linear": 1.0}.get(nonlinearity, math.sqrt(2.0 / (1 + a ** 2)))
    return gain / math.sqrt(fan)


case("torch.nn.init.orthogonal_", lambda lib, w, **kw: _orthogonal_stats(lib, lib.nn.init.orthogonal_(w, **kw)),
     [given(array((4, 6))), given(array((6, 4)), gain=2.0), given(array((3, 2, 2), F32)), given(array((3,)))],
     grad=False)


def _orthogonal_stats(lib, w):
    flat = w.reshape(w.shape[0], -1)
    small = flat if flat.shape[0] <= flat.shape[1] else flat.t()
    gram = small @ small.t()
    scale = gram[0, 0].item()
    return w.shape, w.dtype, bool((gram - scale * lib.eye(gram.shape[0], dtype=w.dtype)).abs().max() < 1e-5)


case("torch.nn.utils.rnn.pad_sequence", lambda lib, *xs, **kw: lib.nn.utils.rnn.pad_sequence(list(xs), **kw),
     [given(array((3, 2), d), array((1, 2), d), array((2, 2), d)) for d in (F32, F64, I64)]
     + [given(array((3,)), array((1,)), batch_first=True), given(array((3,)), array((1,)), padding_value=-1.0),
        given(array((2, 2)), array((2, 3)))])
case("torch.nn.utils.rnn.pack_padded_sequence", lambda lib, x, lengths, **kw: _packed(
    lib.nn.utils.rnn.pack_padded_sequence(x, lengths, **kw)),
     [given(array((4, 3, 2)), [4, 2, 1]), given(array((3, 4, 2)), [2, 4, 1], batch_first=True, enforce_sorted=False),
      given(array((4, 3)), np.array([4, 3, 3])), given(array((4, 3, 2)), [1, 2, 4]),
      given(array((4, 3, 2)), [4, 2, 0])])
case("torch.nn.utils.rnn.pad_packed_sequence", lambda lib, x, lengths, **kw: lib.nn.utils.rnn.pad_packed_sequence(
    lib.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False), **kw),
     [given(array((4, 3, 2)), [4, 2, 3]), given(array((4, 3, 2)), [4, 2, 3], batch_first=True),
      given(array((4, 3, 2)), [3, 2, 3], total_length=5), given(array((4, 3, 2)), [3, 2, 3], padding_value=9.0)])


def _packed(packed):
    return packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices


# --- behaviour: names that are not computations ----------------------------------------------------

BEHAVIOURS = []


def behaviour(*names, xfail=""):
    """A check of names whose parity is behaviour (seeds, probes, optimisers, data, saving, ...)."""
    def register(check):
        BEHAVIOURS.append((names, check, xfail))
        return check
    return register


@behaviour("torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all")
def check_seeds():
    for lib in (mg, torch):
        lib.manual_seed(3)
        first = lib.rand(5), lib.randn(2), lib.randint(0, 9, (3,))
        lib.manual_seed(3)
        again = lib.rand(5), lib.randn(2), lib.randint(0, 9, (3,))
        assert all(lib.equal(a, b) for a, b in zip(first, again)), lib.__name__
        # the CUDA seeds do not touch the CPU generator; without a GPU they do nothing and return None
        assert lib.cuda.manual_seed(3) is None and lib.cuda.manual_seed_all(3) is None
        assert not lib.equal(lib.rand(5), first[0])


def _both(run):
    """run(lib) under torch and under minigrad give the same plain result."""
    assert_same(plain(run(torch)), plain(run(mg)), None)


@behaviour("torch.no_grad", "torch.is_grad_enabled")
def check_no_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.no_grad():
            y = x * 2
            inside = lib.is_grad_enabled()

        @lib.no_grad()
        def doubled(t):
            return t * 2
        return y.requires_grad, inside, lib.is_grad_enabled(), doubled(x).requires_grad, (x * 2).requires_grad
    _both(run)


@behaviour("Tensor.retain_grad", "Tensor.retains_grad")
def check_retain_grad_and_backward_inputs():
    def run(lib):
        a, b = lib.tensor([1.0, -2.0], requires_grad=True), lib.tensor([3.0, 0.5], requires_grad=True)
        h = a * b
        h.retain_grad()
        seen = []
        other = b.exp()
        other.register_hook(lambda g: seen.append(1))
        y = (h * h + other).sum()
        y.backward(retain_graph=True, inputs=[a])                   # a only; other's hook does not run
        first = (a.grad, b.grad, h.grad, len(seen), h.retains_grad, a.retains_grad)
        y.backward(inputs=(h, b))                                    # a non-leaf input; accumulates
        errors = []
        for attempt in (lambda: (a * 2).sum().backward(inputs=[]),
                        lambda: (a * 2).sum().backward(inputs=[lib.ones(2)]),
                        lambda: lib.ones(2).retain_grad()):
            try:
                attempt()
                errors.append(None)
            except Exception as error:
                errors.append(type(error).__name__)
        g = a * a
        g.retain_grad()
        lib.autograd.grad((g * 3).sum(), a)                          # grad() fills retained .grad too
        return first, (a.grad, b.grad, h.grad, len(seen)), errors, g.grad
    _both(run)


@behaviour("Tensor.backward")
def check_backward_errors_and_options():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        errors = []
        for attempt in (lambda: (x * x).backward(),                               # not a scalar
                        lambda: (lib.ones(2) * 2).sum().backward(),               # nothing requires grad
                        lambda: (x * x).backward(lib.ones(3))):                   # wrong gradient shape
            try:
                attempt()
                errors.append(None)
            except Exception as error:
                errors.append(type(error).__name__)
        x.grad = None
        y = (x.exp() * 2).sum()
        y.backward(retain_graph=True)
        y.backward()                                                              # kept, so a second pass works
        z = (x.exp()).sum()
        z.backward()
        try:
            z.backward()                                                          # freed
            errors.append(None)
        except Exception as error:
            errors.append(type(error).__name__)
        x.grad = None
        (x * 3).backward(lib.tensor([1.0, -1.0]))
        return errors, x.grad
    _both(run)


@behaviour("torch.autograd.grad")
def check_autograd_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (gx,) = lib.autograd.grad((x ** 3).sum(), [x], create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), [x])
        both = lib.autograd.grad((x * y).sum(), (x, y), grad_outputs=lib.tensor(2.0))
        unused = lib.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
        return gx, ggx, both, unused, x.grad
    _both(run)


@behaviour("torch.autograd.backward")
def check_autograd_backward():
    def run(lib):
        w = lib.tensor([1.0, -1.0, 0.5], requires_grad=True)
        lib.autograd.backward((w * w).sum())
        lib.autograd.backward(w * 3, lib.ones(3))
        return w.grad
    _both(run)


@behaviour("torch.autograd.backward")
def check_autograd_backward_list():
    def run(lib):
        w = lib.tensor([1.0, -1.0, 0.5], requires_grad=True)
        lib.autograd.backward([(w * w).sum(), (w * 2).sum()])
        return w.grad
    _both(run)


@behaviour("torch.autograd.Variable", "torch.nn.Parameter")
def check_variable_parameter():
    def run(lib):
        v = lib.autograd.Variable(lib.tensor([1.0, 2.0]), requires_grad=True)
        p = lib.nn.Parameter(lib.ones(2))
        return (v.requires_grad, v.is_leaf, lib.autograd.Variable(lib.ones(1)).requires_grad, p.requires_grad,
                isinstance(p, lib.Tensor), (p * 2).requires_grad, p.is_leaf,
                lib.nn.Parameter(lib.ones(2), requires_grad=False).requires_grad)
    _both(run)


@behaviour("torch.device", "torch.cuda.is_available", "torch.cuda.device_count", "torch.accelerator.is_available",
           "torch.accelerator.device_count", "torch.accelerator.current_accelerator", "torch.backends.cudnn",
           "torch.backends.cudnn.benchmark", "torch.backends.cudnn.deterministic", "torch.backends.cudnn.enabled")
def check_devices():
    def run(lib):
        d = lib.device("cpu")
        return (str(d), d.type, d.index, str(lib.device("cuda", 0)), str(lib.device("cuda:1")),
                lib.cuda.is_available(), lib.cuda.device_count(), lib.accelerator.is_available(),
                lib.accelerator.device_count(), lib.accelerator.current_accelerator(),
                lib.backends.cudnn.benchmark, lib.backends.cudnn.deterministic, lib.backends.cudnn.enabled,
                lib.tensor([1.0], device="cpu").device.type, lib.zeros(2, device=d).device == d)
    if mg.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a CUDA machine: the CPU-only answers do not apply")
    assert_same(plain(run(torch)), plain(run(mg)), None)
    with pytest.raises(Exception):
        mg.device("nonsense")


@behaviour("torch.save", "torch.load")
def check_save_load(tmp_path):
    for lib in (mg, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        state = {"w": lib.tensor([[1.0, 2.0]]), "step": 3, "names": ["a", "b"], "i": lib.arange(3),
                 "b": lib.tensor([True, False]), "d": lib.zeros(2, dtype=lib.float64), "empty": lib.zeros(0, 3),
                 "nested": {"t": (lib.ones(1), 2.5)}, "model": list(model.state_dict())}
        lib.save(state, tmp_path / f"{lib.__name__}.pt")
    loaded = mg.load(tmp_path / "minigrad.pt")
    expected = torch.load(tmp_path / "torch.pt")
    assert_same(plain(expected), plain(loaded), None)


def _losses(lib, make_optimizer, steps=5, closure=False):
    """Parameters after `steps` optimiser steps on a fixed quadratic-and-quartic loss."""
    w = lib.nn.Parameter(lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2]], dtype=lib.float64))
    b = lib.nn.Parameter(lib.tensor([0.1, -0.4], dtype=lib.float64))
    x = lib.tensor([[0.5, 1.0, -1.5], [2.0, 0.0, 1.0]], dtype=lib.float64)
    optimizer = make_optimizer(lib.optim, [w, b])

    def loss_fn():
        optimizer.zero_grad()
        loss = ((x @ w.t() + b) ** 2).sum() + (w ** 4).sum() * 0.1
        loss.backward()
        return loss
    for _ in range(steps):
        if closure:
            optimizer.step(loss_fn)
        else:
            loss_fn()
            optimizer.step()
    return w, b


OPTIMIZERS = {
    "torch.optim.SGD": [lambda optim, p: optim.SGD(p, lr=0.01),
                        lambda optim, p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
                        lambda optim, p: optim.SGD(p, lr=0.01, momentum=0.5, dampening=0.1, maximize=True),
                        lambda optim, p: optim.SGD([{"params": p[:1]}, {"params": p[1:], "lr": 0.1}], lr=0.01)],
    "torch.optim.Adam": [lambda optim, p: optim.Adam(p),
                         lambda optim, p: optim.Adam(p, lr=0.05, betas=(0.8, 0.9), weight_decay=0.01, amsgrad=True),
                         lambda optim, p: optim.Adam(p, lr=0.05, eps=1e-3, maximize=True)],
    "torch.optim.AdamW": [lambda optim, p: optim.AdamW(p, lr=0.05),
                          lambda optim, p: optim.AdamW(p, lr=0.05, weight_decay=0.1, amsgrad=True)],
    "torch.optim.RMSprop": [lambda optim, p: optim.RMSprop(p),
                            lambda optim, p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)],
    "torch.optim.Adadelta": [lambda optim, p: optim.Adadelta(p),
                             lambda optim, p: optim.Adadelta(p, lr=1.0, rho=0.8, weight_decay=0.1)],
}


def _optimizer_check(name):
    def check():
        for k, make in enumerate(OPTIMIZERS[name]):
            assert_same(plain(_losses(torch, make)), plain(_losses(mg, make)), None, f"{name} configuration {k}")
    return check


for _name in OPTIMIZERS:
    behaviour(_name)(_optimizer_check(_name))


@behaviour("torch.optim.LBFGS", "Optimizer.step")
def check_lbfgs():
    make = lambda optim, p: optim.LBFGS(p, lr=0.5, max_iter=5)  # noqa: E731
    assert_same(plain(_losses(torch, make, steps=2, closure=True)), plain(_losses(mg, make, steps=2, closure=True)),
                None)


SCHEDULERS = {
    "torch.optim.lr_scheduler.StepLR": lambda s, o: s.StepLR(o, step_size=2, gamma=0.5),
    "torch.optim.lr_scheduler.ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "torch.optim.lr_scheduler.CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    "torch.optim.lr_scheduler.LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 1 / (epoch + 1)),
}


def _scheduler_check(name):
    def check():
        def run(lib):
            optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
            scheduler = SCHEDULERS[name](lib.optim.lr_scheduler, optimizer)
            lrs = []
            for _ in range(7):
                optimizer.step()
                scheduler.step()
                lrs.append((optimizer.param_groups[0]["lr"], scheduler.get_last_lr()))
            return lrs
        assert_same(plain(run(torch)), plain(run(mg)), None)
    return check


for _name in SCHEDULERS:
    behaviour(_name)(_scheduler_check(_name))


@behaviour("torch.utils.data.DataLoader", "torch.utils.data.Dataset", "torch.utils.data.Subset",
           "torch.utils.data.TensorDataset")
def check_data():
    def run(lib):
        data = lib.utils.data

        class Squares(data.Dataset):
            def __len__(self):
                return 5

            def __getitem__(self, i):
                return lib.tensor([float(i), float(i * i)]), i

        x, y = lib.arange(10.0).reshape(5, 2), lib.tensor([0, 1, 0, 1, 1])
        pairs = data.TensorDataset(x, y)
        subset = data.Subset(pairs, [4, 0, 2])
        batches = [list(b) for b in data.DataLoader(pairs, batch_size=2)]
        dropped = [list(b) for b in data.DataLoader(subset, batch_size=2, drop_last=True)]
        custom = [list(b) for b in data.DataLoader(Squares(), batch_size=3)]
        shuffled = sorted(int(i) for b in data.DataLoader(pairs, batch_size=2, shuffle=True) for i in b[1].tolist()
                          for _ in [0])
        class Mixed(data.Dataset):
            def __len__(self):
                return 3

            def __getitem__(self, i):
                return {"x": lib.tensor([i, i + 1.0]), "n": i, "pair": (i, lib.tensor(i))}

        mixed = [b for b in data.DataLoader(Mixed(), batch_size=2)]
        unbatched = [b for b in data.DataLoader(pairs, batch_size=None)][:2]
        return (len(pairs), list(pairs[1]), len(subset), list(subset[0]), batches, dropped, custom, len(shuffled),
                mixed, unbatched, len(data.DataLoader(pairs, batch_size=2)),
                len(data.DataLoader(pairs, batch_size=2, drop_last=True)))
    assert_same(plain(run(torch)), plain(run(mg)), None)


@behaviour("torch.utils.data.RandomSampler")
def check_random_sampler():
    def run(lib):
        data = lib.utils.data
        items = list(range(7))
        once = list(data.RandomSampler(items))
        drawn = list(data.RandomSampler(items, replacement=True, num_samples=20))
        fewer = list(data.RandomSampler(items, num_samples=3))
        batches = [b.tolist() for b in data.DataLoader(items, batch_size=3, sampler=data.RandomSampler(items))]
        return (sorted(once), len(data.RandomSampler(items)), len(drawn), all(0 <= i < 7 for i in drawn),
                len(fewer), len(set(fewer)), [len(b) for b in batches], sorted(i for b in batches for i in b),
                len(data.RandomSampler(items, replacement=True, num_samples=20)))
    _both(run)


@behaviour("torch.utils.data.DataLoader")
def check_collate_floats():
    _both(lambda lib: list(lib.utils.data.DataLoader([0.5, 1.5, 2.5], batch_size=2)))


@behaviour("torch.nn.utils.clip_grad_norm_")
def check_clip_grad_norm():
    def run(lib, **kw):
        p = lib.nn.Parameter(lib.tensor([3.0, 4.0], dtype=lib.float64))
        q = lib.nn.Parameter(lib.tensor([[12.0]], dtype=lib.float64))
        ((p * lib.tensor([1.0, 1.0], dtype=lib.float64)).sum() + (q * 1).sum()).backward()
        p.grad = lib.tensor([3.0, 4.0], dtype=lib.float64)
        q.grad = lib.tensor([[12.0]], dtype=lib.float64)
        norm = lib.nn.utils.clip_grad_norm_([p, q], **kw)
        return norm, p.grad, q.grad
    for kw in ({"max_norm": 1.0}, {"max_norm": 100.0}, {"max_norm": 1.0, "norm_type": 1}, {"max_norm": 2.0,
                                                                                           "norm_type": "inf"}):
        assert_same(plain(run(torch, **kw)), plain(run(mg, **kw)), None)


def _modules(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
            self.head = nn.Linear(4, 2)
            self.register_buffer("scale", lib.tensor([2.0]))
            self.add_module("extra", nn.Linear(2, 2))

        def forward(self, x):
            return self.extra(self.head(self.body(x))) * self.scale
    return Net


def _module_facts(lib):
    """What each nn.Module method gives on the same small network, by method name."""
    net = _modules(lib)().double()
    with lib.no_grad():                     # the same weights on both sides
        for k, p in enumerate(net.parameters()):
            p.copy_(lib.tensor(np.sin(np.arange(p.numel()) + k).reshape(tuple(p.shape))))
    facts = {}
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    facts["apply"] = seen
    facts["children"] = [type(m).__name__ for m in net.children()]
    facts["modules"] = [type(m).__name__ for m in net.modules()]
    facts["named_modules"] = [n for n, _ in net.named_modules()]
    facts["named_parameters"] = [(n, tuple(p.shape)) for n, p in net.named_parameters()]
    facts["parameters"] = [(tuple(p.shape), p.requires_grad) for p in net.parameters()]
    facts["add_module"] = [n for n, _ in net.extra.named_parameters()], "extra" in dict(net.named_children())
    facts["register_buffer"] = [n for n, _ in net.named_buffers()], net.scale.tolist(), "scale" in net.state_dict()
    facts["state_dict"] = [(k, tuple(v.shape), v.requires_grad) for k, v in net.state_dict().items()]
    x = lib.tensor(np.linspace(-1, 1, 15).reshape(5, 3))
    out = net.forward(x)
    facts["forward"] = out, net(x)
    out.sum().backward()
    had = [p.grad is not None for p in net.parameters()]
    net.zero_grad()
    facts["zero_grad"] = had, [p.grad for p in net.parameters()]
    facts["eval"] = net.eval() is net, [m.training for m in net.modules()], net(x)
    facts["train"] = net.train() is net, [m.training for m in net.modules()], net.train(False).training
    net.train()
    fresh = _modules(lib)().double()
    result = fresh.load_state_dict(net.state_dict())
    errors = []
    for state in ({"nonsense": lib.zeros(1)}, {**net.state_dict(), "head.weight": lib.zeros(7, 7)}):
        try:
            fresh.load_state_dict(state)
            errors.append(None)
        except Exception as error:
            errors.append(type(error).__name__)
    partial = fresh.load_state_dict({"head.bias": lib.zeros(2)}, strict=False)
    facts["load_state_dict"] = (list(result.missing_keys), list(result.unexpected_keys), fresh(x), errors,
                                sorted(partial.missing_keys)[:3], fresh.head.bias)
    return facts


def _module_method_check(method):
    def check():
        assert_same(plain(_module_facts(torch)[method]), plain(_module_facts(mg)[method]), None, f"Module.{method}")
    check.__name__ = f"check_module_{method}"
    return check


for _method in ("add_module", "apply", "children", "eval", "forward", "load_state_dict", "modules", "named_modules",
                "named_parameters", "parameters", "register_buffer", "state_dict", "train", "zero_grad"):
    behaviour(f"Module.{_method}")(_module_method_check(_method))


# --- torch.distributions ----------------------------------------------------------------------------

def _normal(lib, loc, scale, value):
    d = lib.distributions.Normal(loc, scale)
    return d.log_prob(value), d.entropy(), d.mean, d.stddev, d.variance, d.cdf(value), d.batch_shape


def _normal_draws(lib, loc, scale):
    d = lib.distributions.Normal(loc, scale)
    draws = d.rsample((4000,))
    return (draws.shape, draws.requires_grad, bool(((draws.mean(0) - loc).abs() < 0.1).all()),
            d.sample().shape, d.sample().requires_grad)


case("torch.distributions.Normal", _normal,
     [given(array((3,)), positive((3,)), array((3,))), given(array((2, 1)), positive((3,)), array((2, 3))),
      given(array(()), positive(()), array((4,))), given(array((3,), F32), positive((3,), F32), array((3,), F32)),
      given(0.5, 2.0, array((3,))), given(array((3,)), np.array([1.0, -1.0, 2.0]), array((3,)))])
case("torch.distributions.Normal", _normal_draws, [given(np.array([0.0, 2.0]), np.array([1.0, 0.5]))], grad=False,
     variant="samples")


def _categorical(lib, name, logits, value, **kw):
    d = getattr(lib.distributions, name)(logits=logits) if kw.get("use_logits") else \
        getattr(lib.distributions, name)(probs=logits.softmax(-1))
    return d.log_prob(value), d.entropy(), d.probs, d.logits, d.batch_shape, d.event_shape


def _categorical_draws(lib, name, probs):
    d = getattr(lib.distributions, name)(probs=probs)
    draws = d.sample((4000,))
    counts = draws.double().mean(0) if name == "OneHotCategorical" else \
        lib.stack([(draws == k).double().mean(0) for k in range(probs.shape[-1])], -1)
    return draws.shape, draws.dtype, bool(((counts - probs).abs() < 0.05).all())


case("torch.distributions.Categorical", lambda lib, logits, value, **kw: _categorical(lib, "Categorical", logits,
                                                                                     value, **kw),
     [given(array((2, 4)), np.array([0, 3])), given(array((2, 4)), np.array([1, 1]), use_logits=True),
      given(array((4,)), np.array(2)), given(array((2, 4)), np.array([[0, 3], [2, 1]]))])
case("torch.distributions.Categorical", lambda lib, p: _categorical_draws(lib, "Categorical", p),
     [given(np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]]))], grad=False, variant="samples")
case("torch.distributions.OneHotCategorical", lambda lib, logits, value, **kw: _categorical(
    lib, "OneHotCategorical", logits, value, **kw),
     [given(array((2, 3)), np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), grad=(0,)),
      given(array((3,)), np.array([0.0, 0.0, 1.0]), use_logits=True, grad=(0,))])
case("torch.distributions.OneHotCategorical", lambda lib, p: _categorical_draws(lib, "OneHotCategorical", p),
     [given(np.array([0.2, 0.3, 0.5]))], grad=False, variant="samples")


# --- census names minigrad does not have yet: their cases are ready and skip until it does -------------

case("Tensor.get_device", lambda lib, x: x.get_device(), unary((F64, I64), shapes=((2,),)), grad=False)
case("Tensor.multinomial", lambda lib, p, n, **kw: _multinomial_stats(p.multinomial(n, **kw), p.shape[-1]),
     [given(np.array([0.1, 0.0, 0.6, 0.3]), 2), given(np.array([0.2, 0.8]), 500, replacement=True),
      given(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]]), 2)], grad=False)
case("Tensor.unfold", lambda lib, x, *a: x.unfold(*a),
     [given(array((7,), d), 0, 2, 1) for d in (F32, F64, I64)]
     + [given(array((3, 7)), 1, 3, 2), given(array((3, 7)), 0, 3, 3), given(array((3, 7)), 1, 8, 1),
        given(array(()), 0, 1, 1)])
case("Tensor.reinforce", lambda lib, x: x.reinforce(1.0), [given(array((2,)))], grad=False)
case("torch.range", lambda lib, *a, **kw: lib.range(*a, **kw),
     [given(0, 3), given(0, 1, 0.25), given(1, 4, dtype=D("int64")), given(3, 0)], grad=False)
case("torch.lgamma", lambda lib, x: lib.lgamma(x), unary(low=0.3, high=4.0) + [given(np.array([-0.5, -1.5, 0.0]))])
case("torch.digamma", lambda lib, x: lib.digamma(x), unary(NUMERIC, low=0.3, high=4.0)
     + [given(np.array([-0.5, -1.5, 0.0]), grad=())])
case("torch.accelerator.set_device_index", lambda lib, i: lib.accelerator.set_device_index(i)
     if not torch.cuda.is_available() else None, [given(0)], grad=False)
case("torch.nn.utils.clip_grad_norm", lambda lib, g, m: _clipped(lib, lib.nn.utils.clip_grad_norm, g, m),
     [given(np.array([3.0, 4.0]), 1.0), given(np.array([3.0, 4.0]), 10.0)], grad=False)
case("torch.Generator", lambda lib, seed: _generator_facts(lib, seed), [given(3), given(12345)], grad=False)
case("torch.distributions.Cauchy", lambda lib, loc, scale, value: (
    lambda d: (d.log_prob(value), d.cdf(value), d.entropy(), d.batch_shape, d.rsample((7,)).shape))(
        lib.distributions.Cauchy(loc, scale)),
     [given(array((3,)), positive((3,)), array((3,))), given(0.0, 2.0, array((4,)), grad=(2,))])
case("torch.distributions.Gamma", lambda lib, a, b, value: (
    lambda d: (d.log_prob(value), d.entropy(), d.mean, d.variance, d.batch_shape))(lib.distributions.Gamma(a, b)),
     [given(positive((3,)), positive((3,)), positive((3,))), given(2.0, 0.5, positive((4,)), grad=(2,))])
case("torch.distributions.Gamma", lambda lib, a, b: (lambda d: _normal_stats(
    d.sample((4000,)), (a / b).mean().item(), (a / b ** 2).sqrt().mean().item()))(lib.distributions.Gamma(a, b)),
     [given(np.array([3.0]), np.array([2.0]))], grad=False, variant="samples")


def _clipped(lib, clip, grad, max_norm):
    p = lib.nn.Parameter(lib.zeros(grad.shape, dtype=grad.dtype))
    p.grad = grad.clone()
    return clip([p], max_norm), p.grad


def _generator_facts(lib, seed):
    g = lib.Generator().manual_seed(seed)
    first = lib.rand(5, generator=g)
    g.manual_seed(seed)
    again = lib.rand(5, generator=g)
    return bool(lib.equal(first, again)), g.initial_seed(), isinstance(g, lib.Generator)


OPTIMIZERS["torch.optim.Adamax"] = [lambda optim, p: optim.Adamax(p),
                                    lambda optim, p: optim.Adamax(p, lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)]
behaviour("torch.optim.Adamax")(_optimizer_check("torch.optim.Adamax"))

# --- known differences: the samples where minigrad differs from PyTorch (bugs to fix) -------------------
# (case id, indices of its samples, the difference). Those samples move into a case of their own that
# is expected to fail (strict): when minigrad is fixed, that case passes, fails as XPASS, and its line
# here goes.

WARNS = "warns (RuntimeWarning, an error under this project's pytest settings) where PyTorch is silent: "

KNOWN_DIFFERENCES = [
    ("Tensor.div_", (1,), WARNS + "'divide by zero encountered in divide' (float32 by an int64 zero is inf)"),
    ("torch.diagonal[shares memory]", (0, 1), "x.diagonal() is a copy: adding to it in place leaves x unchanged; "
                                              "PyTorch's is a view and x changes"),
    ("torch.arange", (12,), "arange(1, 2.5, dtype=int64) gives [1, 2]; PyTorch [1] (size from the int64 bounds)"),
    ("torch.range", (3,), "range(3, 0) gives an empty tensor; PyTorch raises RuntimeError (bounds inconsistent "
                          "with the step's sign)"),
]


def _split_known_differences():
    by_id = {c.id: c for c in CASES}
    assert len(by_id) == len(CASES), "two cases share a name and variant"
    taken = {}
    for case_id, indices, reason in KNOWN_DIFFERENCES:
        original = by_id[case_id]
        picked = [sample for sample in original.samples if sample.number in indices]
        samples = "sample " + ",".join(str(i) for i in indices)
        variant = f"{original.variant}, {samples}" if original.variant else samples
        CASES.append(OpCase(original.name, original.call, picked, original.grad, original.tol, variant, reason))
        taken.setdefault(case_id, set()).update(indices)
    for case_id, indices in taken.items():
        original = by_id[case_id]
        original.samples = [sample for sample in original.samples if sample.number not in indices]
        if not original.samples:
            CASES.remove(original)


_split_known_differences()

# --- the runner ---------------------------------------------------------------------------------------

@dataclass
class Tensorlike:
    """A tensor's result reduced to what is compared: values, dtype (as NumPy's), shape."""
    values: np.ndarray
    dtype: np.dtype
    shape: tuple


def plain(value):
    """A result of either library as plain data: tensors as Tensorlike, sizes as tuples, dtypes as
    NumPy dtypes, devices as strings, containers (named tuples too) as lists."""
    if isinstance(value, torch.Tensor):
        values = value.detach().numpy()
        return Tensorlike(values, values.dtype, tuple(value.shape))
    if isinstance(value, mg.Tensor):
        values = np.asarray(value.detach().numpy())
        return Tensorlike(values, np.dtype(value.dtype), tuple(value.shape))
    if isinstance(value, torch.dtype):
        return np.dtype(torch.empty((), dtype=value).numpy().dtype)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value)
    if isinstance(value, (torch.device, mg.device)):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_same(expected, got, tol, where="result"):
    """`got` (minigrad's, plain) equals `expected` (torch's, plain): values, dtypes, shapes, types."""
    if isinstance(expected, Tensorlike):
        assert isinstance(got, Tensorlike), f"{where}: expected a tensor, got {got!r}"
        assert got.shape == expected.shape, f"{where}: shape {got.shape}, PyTorch {expected.shape}"
        assert got.dtype == expected.dtype, f"{where}: dtype {got.dtype}, PyTorch {expected.dtype}"
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(got.values, expected.values, err_msg=where,
                                       **(tol or TOLERANCE).get(expected.dtype, TOLERANCE[F64]))
        else:
            np.testing.assert_array_equal(got.values, expected.values, err_msg=where)
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r}, PyTorch {expected!r}"
        for i, (e, g) in enumerate(zip(expected, got)):
            assert_same(e, g, tol, f"{where}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected), f"{where}: keys {list(got)}, {list(expected)}"
        for k in expected:
            assert_same(expected[k], got[k], tol, f"{where}[{k!r}]")
    elif isinstance(expected, float):
        assert type(got) is float, f"{where}: {got!r} ({type(got).__name__}), PyTorch {expected!r} (float)"
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-7, nan_ok=True), f"{where}: {got}, PyTorch {expected}"
    else:
        assert type(got) is type(expected) and got == expected, \
            f"{where}: {got!r} ({type(got).__name__}), PyTorch {expected!r} ({type(expected).__name__})"


def tensors_in(value):
    """The tensors of a result, in order (through tuples, lists and named tuples)."""
    if isinstance(value, (torch.Tensor, mg.Tensor)):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(v)]
    return []


def make_inputs(lib, sample, differentiate):
    """The sample's arguments for `lib`: arrays as tensors (requiring grad where differentiated, even
    inside tuples), D("name") as the library's dtype; other values as they are."""
    def convert(value, grad=False):
        if isinstance(value, np.ndarray):
            return (torch.tensor(value.copy(), requires_grad=grad) if lib is torch
                    else mg.tensor(value.copy(), requires_grad=grad))
        if isinstance(value, D):
            return getattr(lib, value)
        if isinstance(value, tuple):
            return tuple(convert(v, grad) for v in value)
        return value
    return [convert(a, i in differentiate) for i, a in enumerate(sample.args)]


def make_kwargs(lib, sample):
    return {k: make_inputs(lib, Sample((v,)), ())[0] for k, v in sample.kwargs.items()}


def differentiated(case_, sample):
    if not case_.grad:
        return set()
    if sample.grad is not None:
        return set(sample.grad)
    return {i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray) and a.dtype == F64}


def assert_raises_too(error, run, same_type=False):
    """PyTorch raised `error`: minigrad's `run()` must raise too (the same type, where it matters)."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    try:
        result = run()
    except Exception as ours:
        if same_type:
            assert isinstance(ours, type(error)) or isinstance(error, type(ours)), \
                f"raised {type(ours).__name__}, PyTorch {type(error).__name__}: {first_line}"
        return
    raise AssertionError(f"PyTorch raised {type(error).__name__} ({first_line}); minigrad returned "
                         f"{str(result)[:60]!r}")


def run_sample(case_, sample, seed, call=None):
    """Compare one sample: errors, results, and gradients of the differentiated inputs."""
    call = call or case_.call
    differentiate = differentiated(case_, sample)
    theirs = make_inputs(torch, sample, differentiate)
    ours = make_inputs(mg, sample, differentiate)
    torch.manual_seed(seed)
    try:
        expected = call(torch, *theirs, **make_kwargs(torch, sample))
    except Exception as error:
        mg.manual_seed(seed)
        assert_raises_too(error, lambda: call(mg, *ours, **make_kwargs(mg, sample)), case_.name in ERROR_TYPES)
        return "error"
    mg.manual_seed(seed)
    got = call(mg, *ours, **make_kwargs(mg, sample))
    assert_same(plain(expected), plain(got), case_.tol)
    outputs = [(t, o) for t, o in zip(tensors_in(expected), tensors_in(got)) if t.requires_grad]
    if not differentiate or not outputs:
        return "value"
    rng = np.random.default_rng(seed)
    loss_t, loss_m = 0, 0
    for t, o in outputs:
        cotangent = rng.standard_normal(tuple(t.shape))
        loss_t = loss_t + (t * torch.tensor(cotangent, dtype=t.dtype)).sum()
        loss_m = loss_m + (o * mg.tensor(cotangent.astype(np.dtype(o.dtype)))).sum()
    loss_t.backward()
    loss_m.backward()
    lowest = min((np.finfo(plain(t).dtype).resolution for t, _ in outputs), default=1e-15)
    tolerance = TOLERANCE[F32] if lowest > 1e-10 else dict(rtol=1e-9, atol=1e-9)
    for i in sorted(differentiate):
        want = theirs[i].grad
        have = ours[i].grad
        assert (have is None) == (want is None), \
            f"gradient of input {i}: {'None' if have is None else 'a tensor'}, PyTorch {want}"
        want = np.zeros(sample.args[i].shape) if want is None else want.numpy()
        have = np.zeros(sample.args[i].shape) if have is None else np.asarray(have.numpy())
        assert have.shape == want.shape, f"gradient of input {i}: shape {have.shape}, PyTorch {want.shape}"
        np.testing.assert_allclose(have, want, err_msg=f"gradient of input {i}", **tolerance)
    return "gradient"


def describe(sample):
    def short(value):
        return f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray) else repr(value)
    args = ", ".join(short(a) for a in sample.args)
    kwargs = "".join(f", {k}={short(v)}" for k, v in sample.kwargs.items())
    return f"({args}{kwargs})"


def marks(entry):
    return [pytest.mark.xfail(strict=True, reason=entry.xfail)] if entry.xfail else []


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Small tensors: torch's thread pool costs more than it saves on busy cores."""
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ids(entries):
    seen = {}
    ids = []
    for entry in entries:
        seen[entry.id] = seen.get(entry.id, 0) + 1
        ids.append(entry.id if seen[entry.id] == 1 else f"{entry.id}#{seen[entry.id]}")
    return ids


@pytest.mark.parametrize("case_", [pytest.param(c, id=i, marks=marks(c)) for c, i in zip(CASES, _ids(CASES))])
def test_op_parity(case_):
    pytest.importorskip("torch")
    skip_unless_minigrad_has(case_.name)
    assert case_.samples, "a case needs samples"
    failures = []
    for sample in case_.samples:
        k = sample.number
        try:
            run_sample(case_, sample, seed=zlib.crc32(case_.name.encode()) + k)
        except AssertionError as failure:
            failures.append(f"sample {k} {describe(sample)}: {str(failure).strip().splitlines()[0]}")
        except Exception as error:  # minigrad raised where PyTorch did not
            failures.append(f"sample {k} {describe(sample)}: minigrad raised {type(error).__name__}: {error}")
    assert not failures, f"{case_.id}: {len(failures)} of {len(case_.samples)} samples differ:\n" + "\n".join(failures)


def run_module_sample(entry, sample, seed):
    """Build the module in both libraries (float64, the same weights), run forward and backward."""
    ours = entry.make(mg.nn).double()
    theirs = entry.make(torch.nn).double()
    theirs.load_state_dict({k: torch.tensor(np.array(v.detach().numpy())) for k, v in ours.state_dict().items()})
    ours.train(entry.train)
    theirs.train(entry.train)
    differentiate = set(sample.grad) if sample.grad is not None else {0}
    their_inputs = make_inputs(torch, sample, differentiate)
    our_inputs = make_inputs(mg, sample, differentiate)
    torch.manual_seed(seed)
    try:
        expected = theirs(*their_inputs, **make_kwargs(torch, sample))
    except Exception as error:
        assert_raises_too(error, lambda: ours(*our_inputs, **make_kwargs(mg, sample)))
        return "error"
    got = ours(*our_inputs, **make_kwargs(mg, sample))
    assert_same(plain(expected), plain(got), None)
    outputs = [(t, o) for t, o in zip(tensors_in(expected), tensors_in(got)) if t.requires_grad]
    rng = np.random.default_rng(seed)
    loss_t, loss_m = 0, 0
    for t, o in outputs:
        cotangent = rng.standard_normal(tuple(t.shape))
        loss_t = loss_t + (t * torch.tensor(cotangent)).sum()
        loss_m = loss_m + (o * mg.tensor(cotangent)).sum()
    if outputs:
        loss_t.backward()
        loss_m.backward()
    for i in sorted(differentiate):
        assert_same(plain(their_inputs[i].grad), plain(our_inputs[i].grad), None, f"gradient of input {i}")
    their_parameters, our_parameters = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(our_parameters) == list(their_parameters), "parameter names"
    for name, p in their_parameters.items():
        assert_same(plain(p.grad), plain(our_parameters[name].grad), None, f"gradient of {name}")
    assert_same(plain(dict(theirs.state_dict())), plain(dict(ours.state_dict())), None, "state_dict after")
    # float32: the same module and inputs keep float32 throughout
    ours32, theirs32 = ours.float(), theirs.float()
    inputs32 = [x.float() if isinstance(x, torch.Tensor) and x.dtype == torch.float64 else x for x in their_inputs]
    our_inputs32 = [x.detach().float() if isinstance(x, mg.Tensor) and x.dtype == F64 else x for x in our_inputs]
    their_kwargs32 = {k: v.float() if isinstance(v, torch.Tensor) and v.dtype == torch.float64 else v
                      for k, v in make_kwargs(torch, sample).items()}
    our_kwargs32 = {k: v.float() if isinstance(v, mg.Tensor) and v.dtype == F64 else v
                    for k, v in make_kwargs(mg, sample).items()}
    if all(not isinstance(x, tuple) for x in inputs32):
        with torch.no_grad():
            expected32 = theirs32(*inputs32, **their_kwargs32)
        with mg.no_grad():
            got32 = ours32(*our_inputs32, **our_kwargs32)
        assert_same(plain(expected32), plain(got32), {F32: dict(rtol=1e-4, atol=1e-5)}, "float32")
    return "gradient"


@pytest.mark.parametrize("entry", [pytest.param(m, id=i, marks=marks(m)) for m, i in zip(MODULES, _ids(MODULES))])
def test_module_parity(entry):
    pytest.importorskip("torch")
    skip_unless_minigrad_has(entry.name)
    failures = []
    for k, sample in enumerate(entry.samples):
        mg.manual_seed(k)
        try:
            run_module_sample(entry, sample, seed=zlib.crc32(entry.id.encode()) + k)
        except AssertionError as failure:
            failures.append(f"sample {k} {describe(sample)}: {str(failure).strip().splitlines()[0]}")
        except Exception as error:
            failures.append(f"sample {k} {describe(sample)}: minigrad raised {type(error).__name__}: {error}")
    assert not failures, f"{entry.id}: {len(failures)} of {len(entry.samples)} samples differ:\n" + "\n".join(failures)


@pytest.mark.parametrize("check", [pytest.param(check, id=f"{names[0]}:{check.__name__}",
                                               marks=[pytest.mark.xfail(strict=True, reason=x)] if x else [])
                                  for names, check, x in BEHAVIOURS])
def test_behaviour_parity(check, request):
    pytest.importorskip("torch")
    for names, registered, _ in BEHAVIOURS:
        if registered is check:
            for name in names:
                skip_unless_minigrad_has(name)
    if "tmp_path" in check.__code__.co_varnames[:check.__code__.co_argcount]:
        check(request.getfixturevalue("tmp_path"))
    else:
        check()


# --- coverage of the census -------------------------------------------------------------------------

# Census names that minigrad has and that no case here compares, with the reason.
EXEMPT = {
    # Namespaces, not computations: code imports them (`import torch.nn as nn`); each of their members
    # in the census has a case of its own.
    "torch.nn": "a package namespace",
    "torch.nn.functional": "a module namespace",
}


def _census_tool():
    spec = importlib.util.spec_from_file_location("api_census", ROOT / "tools" / "api_census.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


_TOOL = []


def minigrad_has(name):
    """Whether minigrad has a census name, judged as tools/api_census.py judges it."""
    if not _TOOL:
        _TOOL.append(_census_tool())
    return _TOOL[0].minigrad_has(name)[0]


def skip_unless_minigrad_has(name):
    """A case prepared for a census name that minigrad does not have yet skips until it does."""
    if not minigrad_has(name):
        pytest.skip(f"minigrad has no {name} yet")


def census_names():
    lines = CENSUS_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def covered_names():
    names = {c.name for c in CASES} | {m.name for m in MODULES}
    return names | {name for names_, _, _ in BEHAVIOURS for name in names_}


def test_census_coverage():
    """Every census name that minigrad has is compared with PyTorch here, or exempt with a reason."""
    present = [name for name in census_names() if minigrad_has(name)]
    missing = sorted(set(present) - covered_names() - set(EXEMPT))
    assert not missing, f"{len(missing)} census names minigrad has lack a parity case: {' '.join(missing)}"
    stale = sorted(set(EXEMPT) - set(census_names()))
    assert not stale, f"EXEMPT names not in the census: {stale}"


def test_table_names_are_real():
    """Every name in the table is one minigrad has or one of the census (no case tests a misspelling,
    which would skip for ever)."""
    unknown = sorted(name for name in covered_names() if not minigrad_has(name) and name not in census_names())
    assert not unknown, f"names in the table that are neither minigrad's nor the census's: {unknown}"


def write_census_file(census_json, out=CENSUS_FILE):
    """The in-scope names of a census JSON (tools/api_census.py --json), one a line."""
    rows = json.loads(Path(census_json).read_text())["names"]
    names = sorted(row["name"] for row in rows if row["scope"] == "in")
    header = ("# In-scope PyTorch names of the API census (docs/compatibility.md), one a line.\n"
              "# tests/test_parity_table.py checks that each one minigrad has is compared with PyTorch.\n"
              "# Regenerate: python tools/api_census.py ... --json census.json && "
              "python tests/test_parity_table.py census.json\n")
    out.write_text(header + "\n".join(names) + "\n")
    return len(names)


if __name__ == "__main__":
    print(f"{write_census_file(sys.argv[1])} names written to {CENSUS_FILE}")


def test_runner_catches_differences():
    """The runner fails on a different value, dtype, shape, gradient, or a missing error."""
    pytest.importorskip("torch")
    wrong = [
        lambda lib, x: x * 2 if lib is torch else x * 3,                           # value
        lambda lib, x: x if lib is torch else x.float(),                           # dtype
        lambda lib, x: x if lib is torch else x.reshape(1, 3),                     # shape
        lambda lib, x: x * x if lib is torch else x.detach() * x,                  # gradient
        lambda lib, x: x.reshape(4) if lib is torch else x,                        # error
        lambda lib, x: x.sum().item() if lib is torch else int(x.sum().item()),    # plain type
    ]
    for call in wrong:
        entry = OpCase("test", call, [given(array((3,)))])
        with pytest.raises(AssertionError):
            run_sample(entry, entry.samples[0], seed=0)
    right = OpCase("test", lambda lib, x: x * x, [given(array((3,)))])
    assert run_sample(right, right.samples[0], seed=0) == "gradient"


def test_module_runner_catches_differences():
    """The module runner fails on a different output, or on a different parameter gradient."""
    pytest.importorskip("torch")
    different_output = ModuleCase("test", lambda nn: nn.Tanh() if nn is torch.nn else nn.Sigmoid(), [inputs((2, 3))])
    with pytest.raises(AssertionError):
        run_module_sample(different_output, different_output.samples[0], seed=0)
    different_gradient = ModuleCase("test", lambda nn: _Stack(nn, [nn.Linear(3, 2)]) if nn is torch.nn
                                    else _DetachedLinear(nn), [inputs((2, 3))])
    with pytest.raises(AssertionError, match="gradient of layer0.weight"):
        run_module_sample(different_gradient, different_gradient.samples[0], seed=0)


def _DetachedLinear(nn):
    """A Linear whose weight gradient is lost (the output is the same)."""
    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer0 = nn.Linear(3, 2)

        def forward(self, x):
            return x @ self.layer0.weight.detach().t() + self.layer0.bias
    return Detached()
