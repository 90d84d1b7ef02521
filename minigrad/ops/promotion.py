"""Type promotion, as PyTorch's torch.result_type: which dtype `x + y` has.

Dtypes fall into three categories, bool < integer < floating. Operands fall into three
priorities: tensors with dims, 0-d tensors, and Python numbers. The result is decided by
the highest priority group, unless a lower priority group holds a higher category:

    int64 tensor   * 2.5                    -> float32   (a Python float is the default float dtype)
    float32 tensor + float64 0-d tensor     -> float32   (same category: dims win)
    int32 tensor   + float64 0-d tensor     -> float64   (higher category: the 0-d tensor's dtype)
    uint8 tensor   + 1000                   -> uint8     (a Python int never widens an int tensor)
    bool tensor    + 1                      -> int64
    int64 tensor   + float16 tensor         -> float16   (NumPy would say float64)

NumPy disagrees in the last two lines and in the second (it lets a 0-d float64 array win),
so minigrad decides the dtype here and casts the operands before NumPy sees them.
"""

import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor, get_default_dtype

BOOL, INTEGER, FLOATING = 0, 1, 2


def category(dtype):
    """0 for bool, 1 for the integer dtypes, 2 for the floating ones."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return BOOL
    if kind in "iu":
        return INTEGER
    if kind == "f":
        return FLOATING
    raise TypeError(f"minigrad has no type promotion for dtype {dtype}")


def promote_types(a, b):
    """The smallest dtype both `a` and `b` convert to, as torch.promote_types.

    Across categories the higher category's dtype wins whatever its size (int64 and
    float16 give float16); within a category the wider one wins, and signed meets
    unsigned as in NumPy (uint8 and int8 give int16)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    return np.promote_types(a, b)


def _number_dtype(value):
    """The dtype a Python (or NumPy) number stands for: bool, int64 or the default float."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return get_default_dtype()
    raise TypeError(f"expected a Tensor or a number, got {type(value).__name__}")


def _combine(higher, lower):
    """The higher priority group's dtype, unless the lower one's is of a higher category."""
    if higher is None:
        return lower
    if lower is None or category(higher) == FLOATING:
        return higher
    if category(higher) == BOOL or category(lower) == FLOATING:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """The dtype of an elementwise op on `operands` (Tensors, arrays and numbers), as torch.result_type."""
    with_dims = zero_dim = numbers_ = None
    for operand in operands:
        if isinstance(operand, Tensor) or backend.is_array(operand):
            dtype = operand.dtype
            if operand.ndim > 0:
                with_dims = dtype if with_dims is None else promote_types(with_dims, dtype)
            else:
                zero_dim = dtype if zero_dim is None else promote_types(zero_dim, dtype)
        else:
            dtype = _number_dtype(operand)
            numbers_ = dtype if numbers_ is None else promote_types(numbers_, dtype)
    return np.dtype(_combine(with_dims, _combine(zero_dim, numbers_)))


def as_operand(value, dtype, like):
    """`value` as a Tensor of `dtype` on `like`'s device: a number becomes a 0-d tensor, a tensor
    of another dtype is cast (differentiably: a float16 input of a float32 op gets its gradient)."""
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else value.to(dtype)
    if backend.is_array(value):
        return Tensor._wrap(backend.to_device(value, like.device).astype(dtype, copy=False), False)
    xp = backend.array_module(like.array)
    # Through a 0-d array of the number's own type, so that -1 becomes 255 in uint8 (wrapping, as
    # PyTorch) instead of NumPy's OverflowError.
    return Tensor._wrap(xp.asarray(np.asarray(value).astype(dtype)), False)


def promote(*operands):
    """The operands as Tensors of their common dtype (result_type) on the first tensor's device."""
    like = next(o for o in operands if isinstance(o, Tensor))
    dtype = result_type(*operands)
    return [as_operand(o, dtype, like) for o in operands]
