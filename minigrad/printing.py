"""How a Tensor prints: repr(t) and f"{t:.4f}" (TensorPrinting, which Tensor inherits), and
mg.set_printoptions. The numbers are written as PyTorch writes them:

    tensor([1.0000, 2.5000])            fixed decimals (4 by default)
    tensor([1., 2.])                    whole numbers end in a point
    tensor([1.0000e-05, 3.0000e+05])    scientific when the magnitudes span more than 1000x
    tensor([1., 2.], dtype=float64, requires_grad=True)    what is not the default is said
"""

import sys

import numpy as np

import minigrad as mg

from . import backend

# PyTorch's print options, by profile (mg.set_printoptions)
PRINT_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
                  "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
                  "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80)}
PRINT_OPTIONS = dict(PRINT_PROFILES["default"])


def _float_formatter(values):
    """PyTorch's way of writing floats: '1.' when every value is whole, else a fixed number of
    decimals, or scientific notation when the magnitudes span more than 1000x (or pass 1e8, or a
    fraction is below 1e-4); each value right-aligned to the widest."""
    finite = values[np.isfinite(values)]
    magnitudes = np.abs(finite[finite != 0]).astype(np.float64)
    whole, scientific = True, False
    if magnitudes.size:
        largest, smallest = magnitudes.max(), magnitudes.min()
        whole = bool((np.ceil(magnitudes) == magnitudes).all())
        scientific = largest / smallest > 1000 or largest > 1e8 or (not whole and smallest < 1e-4)
    if PRINT_OPTIONS.get("sci_mode") is not None:
        scientific = PRINT_OPTIONS["sci_mode"]
    precision = PRINT_OPTIONS["precision"]

    def write(value):
        if scientific:
            return f"{value:.{precision}e}"
        if whole:
            return f"{value:.0f}" + ("" if np.isnan(value) or np.isinf(value) else ".")
        return f"{value:.{precision}f}"

    extremes = [finite.max(), finite.min()] if finite.size else []
    extremes += [v for v in (np.inf, -np.inf) if (values == v).any()] + ([np.nan] if np.isnan(values).any() else [])
    width = max((len(write(float(v))) for v in extremes), default=0)
    return lambda value: write(float(value)).rjust(width)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """As torch.set_printoptions: digits after the point, how many elements before a summary with
    '...', how many at each end of it, and the line width; profile 'default', 'short' or 'full'.
    sci_mode True or False forces scientific notation on or off (None: chosen from the values)."""
    if profile is not None:
        PRINT_OPTIONS.update(PRINT_PROFILES[profile])
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    PRINT_OPTIONS.update({name: value for name, value in given.items() if value is not None})
    PRINT_OPTIONS["sci_mode"] = sci_mode


class TensorPrinting:
    __slots__ = ()  # adds no instance state: a Tensor keeps no __dict__

    def __repr__(self):
        options = PRINT_OPTIONS
        values = backend.to_numpy(self.array)
        formatter = {"float_kind": _float_formatter(values)} if values.dtype.kind == "f" else None
        body = np.array2string(values, separator=", ", prefix="tensor(", formatter=formatter,
                               precision=options["precision"], threshold=options["threshold"],
                               edgeitems=options["edgeitems"], max_line_width=options["linewidth"])
        extras = []
        if self.dtype not in (mg.get_default_dtype(), np.int64, np.bool_):  # as PyTorch: the default dtypes go unsaid
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __format__(self, spec):
        """f"{loss:.4f}": a 0-dim tensor formats its Python number (item()), as PyTorch; any other
        tensor takes only the empty spec, which gives str(t)."""
        if self.ndim == 0 and type(self) is mg.Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)
