"""cupy.random of the stand-in: CuPy's generator API, giving device arrays.

The numbers come from NumPy's Philox bit generator, not from NumPy's default (PCG64): with the same
seed the "GPU" draws other numbers than the CPU, as CuPy's XORWOW does, so a test that expects the
two devices to draw alike fails here as it would on a GPU. `Generator` has only the methods that
CuPy's Generator has (no normal, permutation, choice or shuffle: CuPy's lacks them).
"""

import numpy as np

from .array import call, device, host


def _bits(seed):
    return np.random.Philox(None if seed is None else int(seed))


class Generator:
    """cupy.random.Generator (from default_rng)."""

    def __init__(self, bit_generator):
        self._rng = np.random.Generator(bit_generator)

    def _draw(self, name, *args, **kwargs):
        return device(getattr(self._rng, name)(*host(args), **host(kwargs)))

    def random(self, size=None, dtype=np.float64, out=None):
        return self._into(out, self._draw("random", size, dtype=dtype))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._into(out, self._draw("standard_normal", size, dtype=dtype))

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        return self._into(out, self._draw("standard_exponential", size, dtype=dtype))

    def standard_gamma(self, shape, size=None, dtype=np.float64, out=None):
        return self._into(out, self._draw("standard_gamma", shape, size, dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return self._draw("uniform", low, high, size).astype(dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return self._draw("integers", low, high, size, dtype=dtype, endpoint=endpoint)

    @staticmethod
    def _into(out, values):
        if out is None:
            return values
        out[...] = values
        return out


for _name in "beta binomial chisquare dirichlet exponential f gamma geometric hypergeometric logseries " \
             "poisson power".split():
    setattr(Generator, _name, (lambda name: lambda self, *args, **kwargs: self._draw(name, *args, **kwargs))(_name))


def default_rng(seed=None):
    return Generator(_bits(seed))


class RandomState:
    """cupy.random.RandomState, the legacy API."""

    def __init__(self, seed=None):
        self._state = np.random.RandomState(_bits(seed))

    def seed(self, seed=None):
        self._state = np.random.RandomState(_bits(seed))

    def __getattr__(self, name):
        if name.startswith("_") or not hasattr(np.random.RandomState, name):
            raise AttributeError(name)
        return call(getattr(self._state, name))


_global = RandomState()


def seed(seed=None):
    _global.seed(seed)


def get_random_state():
    return _global


def _legacy(name):
    return lambda *args, **kwargs: getattr(_global, name)(*args, **kwargs)


for _name in "rand randn random random_sample uniform normal randint standard_normal permutation shuffle " \
             "choice exponential binomial".split():
    globals()[_name] = _legacy(_name)
