"""Old PyTorch spellings that tutorials still use: Variable, FloatTensor(2, 3), t.type(...), mg.Size.

    x = Variable(mg.randn(4, 3), requires_grad=True)    # just a tensor now, as in PyTorch >= 0.4
    z = mg.FloatTensor(64, 100).normal_(0, 1)          # a (64, 100) float32 tensor
    images = images.type(mg.FloatTensor)               # convert to float32 on the CPU
    mg.randn(3).type()                                 # 'torch.FloatTensor'
    isinstance(mg.randn(3), mg.FloatTensor)            # True: float32 on the CPU

Each `XxxTensor` is a `TensorType`: calling it makes a tensor (of that dtype, on that device),
`t.type(XxxTensor)` converts to it, and `isinstance(t, XxxTensor)` asks whether t has that dtype
and device. mg.cuda.FloatTensor and friends are the CUDA ones.

The Tensor's side of them is LegacyTensorMethods, which Tensor (tensor.py) inherits: the legacy
constructor's forms (Tensor(2, 3), Tensor(data)), t.size() as an mg.Size, t.type(), t.type_as(),
t.new(...) and t.new_zeros(...) and its siblings. Tensor is built on this module, so this module
reads Tensor and minigrad.creation through the package when it runs (mg.Tensor, mg.creation).
"""

import warnings

import numpy as np

import minigrad as mg

from . import backend

# dtype -> the word PyTorch's type strings use for it
TYPE_WORDS = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.float16): "Half",
              np.dtype(np.int64): "Long", np.dtype(np.int32): "Int", np.dtype(np.int16): "Short",
              np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte", np.dtype(np.bool_): "Bool"}


class Size(tuple):
    """mg.Size, as torch.Size: a tuple of ints naming a shape.

    Slicing it or adding a tuple gives a Size; `numel()` is the product. Tensor(mg.Size([2, 3]))
    and FloatTensor(mg.Size([2, 3])) read it as sizes, where a plain tuple is data.
    """

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for i, n in enumerate(sizes):
            if isinstance(n, mg.Tensor) and n.numel() == 1 and n.dtype.kind in "iub":
                continue
            if not isinstance(n, (int, np.integer)):
                raise TypeError(f"mg.Size() takes an iterable of 'int' (item {i} is '{type(n).__name__}')")
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        count = 1
        for n in self:
            count *= n
        return count

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple(self) * times)

    __rmul__ = __mul__

    def __repr__(self):
        return f"torch.Size({list(self)})"


def is_sizes(args):
    """Whether constructor arguments are sizes: ints (not bools), or one mg.Size."""
    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args)


def check_sizes(sizes):
    """PyTorch's error for a negative size, before NumPy's own."""
    for n in sizes:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(sizes)}")
    return tuple(int(n) for n in sizes)


class LegacyTensorMethods:
    """The Tensor's (tensor.py) old spellings: the legacy constructor's forms, t.size(), t.type(),
    t.type_as(), t.new(...) and new_zeros/new_ones/new_empty/new_full/new_tensor. Tensor inherits it."""
    __slots__ = ()  # adds no instance state: a Tensor keeps no __dict__

    def _init_legacy(self, args, size, device):
        """Tensor.__init__ without dtype or requires_grad: PyTorch's legacy constructor, Tensor(2, 3),
        Tensor(), Tensor(mg.Size([2, 3])), Tensor(size=(2, 3)), Tensor(other_tensor) or Tensor(data)."""
        if size is not None:
            if args:
                raise TypeError("Tensor() takes sizes or size=..., not both")
            args = (Size(size),)
        if is_sizes(args):  # also Tensor(): no sizes
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
            xp = backend.array_module(backend.normalize_device(device))
            self.array = xp.zeros(check_sizes(sizes) if args else (0,), dtype=mg.get_default_dtype())
        elif len(args) == 1 and isinstance(args[0], mg.Tensor):  # an alias, as PyTorch's
            other = args[0]
            self.array = other.array if device is None else backend.to_device(other.array, device)
            self._version = other._version if self.array is other.array else [0]
        elif len(args) == 1:  # data: float of the default dtype, whatever its own dtype (as PyTorch)
            if not isinstance(args[0], (list, tuple)) and not backend.is_array(args[0]):
                raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
            mg.Tensor.__init__(self, args[0], dtype=mg.get_default_dtype(), device=device)  # minigrad's form
        else:
            raise TypeError(f"Tensor() takes sizes (ints) or one sequence of data, got "
                            f"{', '.join(type(a).__name__ for a in args)}")

    def size(self, dim=None):
        """The shape as an mg.Size (torch.Size), so that `x.new(x.size())` reads it as sizes; or one
        dim's length. (`.shape` is a plain tuple: docs/differences.md.)"""
        return Size(self.array.shape) if dim is None else self.shape[dim]

    def type(self, dtype=None, non_blocking=False):
        """t.type() -> 'torch.FloatTensor' (or 'torch.cuda.FloatTensor', ...), as PyTorch;
        t.type(mg.FloatTensor), t.type(mg.cuda.FloatTensor), t.type('torch.DoubleTensor'),
        t.type(mg.Tensor) (the default dtype) or t.type(mg.float64) -> the tensor converted
        (to that device too, for the tensor types); itself when nothing changes."""
        if dtype is None:
            return type_name(self)
        return convert(self, dtype, non_blocking)

    def type_as(self, other):
        """This tensor in other's dtype (and on its device), as t.type(other.type())."""
        return self.to(other.device, other.dtype)

    # --- new tensors like this one (its dtype and device unless told otherwise) ----------

    def new(self, *args, device=None):
        """t.new(2, 3) (sizes) or t.new(data): a new tensor of t's dtype, on t's device."""
        device = self.device if device is None else device
        if is_sizes(args):
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
            return mg.creation.zeros(check_sizes(sizes) if args else (0,), dtype=self.dtype, device=device)
        if len(args) != 1:
            raise TypeError(f"new() takes sizes (ints) or one sequence of data, got "
                            f"{', '.join(type(a).__name__ for a in args)}")
        if isinstance(args[0], mg.Tensor) and args[0].dtype != self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got {args[0].dtype}")
        return mg.creation.tensor(args[0], dtype=self.dtype, device=device)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of `data` as a tensor of t's dtype and device (unless given)."""
        return mg.creation.tensor(data, dtype=self.dtype if dtype is None else dtype,
                                  device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """new_zeros(2, 3) or new_zeros((2, 3)): zeros of t's dtype and device (unless given)."""
        return mg.creation.zeros(*size, dtype=self.dtype if dtype is None else dtype,
                                 device=self.device if device is None else device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return mg.creation.ones(*size, dtype=self.dtype if dtype is None else dtype,
                                device=self.device if device is None else device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """As new_zeros (PyTorch leaves the values uninitialised)."""
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A tensor of shape `size` (a tuple or list) filled with fill_value, of t's dtype and device."""
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(size).__name__}")
        return mg.creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                                device=self.device if device is None else device, requires_grad=requires_grad)


class TensorType:
    """torch.FloatTensor and friends: a dtype and a device under PyTorch's old name.

    FloatTensor(2, 3)         a (2, 3) tensor (zeros here; PyTorch leaves it uninitialised)
    FloatTensor([1, 2])       a tensor holding that data (also a tuple, an array or a Tensor)
    FloatTensor()             an empty tensor of shape (0,)
    isinstance(t, FloatTensor)   whether t is float32 on the CPU
    """

    def __init__(self, dtype, device):
        self.dtype, self.device = np.dtype(dtype), device

    @property
    def name(self):
        """'torch.FloatTensor', 'torch.cuda.LongTensor', ...: what t.type() returns."""
        module = "torch.cuda." if self.device == "cuda" else "torch."
        return f"{module}{TYPE_WORDS[self.dtype]}Tensor"

    def __call__(self, *args):
        if is_sizes(args):
            sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
            return mg.creation.zeros(check_sizes(sizes) if args else (0,), dtype=self.dtype, device=self.device)
        if len(args) == 1:
            return mg.creation.tensor(args[0], dtype=self.dtype, device=self.device)  # data
        raise TypeError(f"{self.name}(...) takes sizes (ints) or one sequence of data, got "
                        f"{', '.join(type(a).__name__ for a in args)}")

    def __instancecheck__(self, obj):
        return isinstance(obj, mg.Tensor) and obj.dtype == self.dtype and obj.device == self.device

    def __eq__(self, other):
        if not isinstance(other, TensorType):
            return NotImplemented
        return (self.dtype, self.device) == (other.dtype, other.device)

    def __hash__(self):
        return hash((self.dtype, self.device))

    def __repr__(self):
        return f"<class '{self.name}'>"


FloatTensor = TensorType(np.float32, "cpu")
DoubleTensor = TensorType(np.float64, "cpu")
HalfTensor = TensorType(np.float16, "cpu")
LongTensor = TensorType(np.int64, "cpu")
IntTensor = TensorType(np.int32, "cpu")
ShortTensor = TensorType(np.int16, "cpu")
CharTensor = TensorType(np.int8, "cpu")
ByteTensor = TensorType(np.uint8, "cpu")
BoolTensor = TensorType(np.bool_, "cpu")
CPU_TYPES = {t.name.rpartition(".")[2]: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                                     ShortTensor, CharTensor, ByteTensor, BoolTensor)}
CUDA_TYPES = {word: TensorType(t.dtype, "cuda") for word, t in CPU_TYPES.items()}


def type_name(tensor):
    """t.type() with no argument: 'torch.FloatTensor', 'torch.cuda.FloatTensor', ..."""
    return TensorType(tensor.dtype, tensor.device).name


def default_type():
    """What mg.Tensor stands for in t.type(mg.Tensor): the default dtype on the CPU."""
    return TensorType(mg.get_default_dtype(), "cpu")


def tensor_type(name):
    """The TensorType for a string such as 'torch.FloatTensor', 'torch.cuda.LongTensor' or 'torch.Tensor'."""
    if name == "torch.Tensor":
        return default_type()
    module, _, word = name.rpartition(".")
    known = {"torch": CPU_TYPES, "torch.cuda": CUDA_TYPES}.get(module, {})
    if word not in known:
        raise ValueError(f"invalid type: {name!r} (expected e.g. 'torch.FloatTensor' or 'torch.cuda.FloatTensor')")
    return known[word]


def convert(tensor, to, non_blocking=False):
    """t.type(to): `to` is a TensorType, mg.Tensor, a type string or a dtype."""
    if to is mg.Tensor:
        to = default_type()
    elif isinstance(to, str):
        to = tensor_type(to)
    if isinstance(to, TensorType):
        if to.device == "cuda" and not backend.cuda_available():
            backend.normalize_device("cuda")  # raises the error that says how to get CUDA
        return tensor.to(to.device, to.dtype)
    return tensor.to(to)


def Variable(data, requires_grad=False, volatile=False):
    """torch.autograd.Variable: since PyTorch 0.4 a Variable is just a Tensor.

    Returns a new leaf tensor sharing `data`'s memory, requiring grad if asked (the original
    is left as it was). `volatile` is ignored, as in PyTorch: use `with mg.no_grad():`.
    """
    if not isinstance(data, mg.Tensor):
        raise TypeError(f"Variable(data) takes a Tensor, got {type(data).__name__}; use mg.tensor(...)")
    if volatile:
        warnings.warn("volatile was removed and now has no effect. Use `with mg.no_grad():` instead.",
                      UserWarning, stacklevel=2)
    return data.detach().requires_grad_(requires_grad)
