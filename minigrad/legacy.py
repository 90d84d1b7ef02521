"""Old PyTorch spellings that tutorials still use: Variable, FloatTensor(2, 3), t.type(...).

    x = Variable(mg.randn(4, 3), requires_grad=True)    # just a tensor now, as in PyTorch >= 0.4
    z = mg.FloatTensor(64, 100).normal_(0, 1)          # a (64, 100) float32 tensor
    images = images.type(mg.FloatTensor)               # convert to float32 on the CPU
    mg.randn(3).type()                                 # 'torch.FloatTensor'

Each `XxxTensor` is a `TensorType`: calling it makes a tensor (of that dtype, on that device),
and `t.type(XxxTensor)` converts to it. mg.cuda.FloatTensor and friends are the CUDA ones.
"""

import warnings

import numpy as np

from . import creation
from .tensor import Tensor

# dtype -> the word PyTorch's type strings use for it
TYPE_WORDS = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double", np.dtype(np.float16): "Half",
              np.dtype(np.int64): "Long", np.dtype(np.int32): "Int", np.dtype(np.int16): "Short",
              np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte", np.dtype(np.bool_): "Bool"}


class TensorType:
    """torch.FloatTensor and friends: a dtype and a device under PyTorch's old name.

    FloatTensor(2, 3)         a (2, 3) tensor (zeros here; PyTorch leaves it uninitialised)
    FloatTensor([1, 2])       a tensor holding that data (also a tuple, an array or a Tensor)
    FloatTensor()             an empty tensor of shape (0,)
    """

    def __init__(self, dtype, device):
        self.dtype, self.device = np.dtype(dtype), device

    @property
    def name(self):
        """'torch.FloatTensor', 'torch.cuda.LongTensor', ...: what t.type() returns."""
        module = "torch.cuda." if self.device == "cuda" else "torch."
        return f"{module}{TYPE_WORDS[self.dtype]}Tensor"

    def __call__(self, *args):
        if not args:
            return creation.zeros(0, dtype=self.dtype, device=self.device)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in args):
            return creation.zeros(*args, dtype=self.dtype, device=self.device)  # sizes
        if len(args) == 1:
            return creation.tensor(args[0], dtype=self.dtype, device=self.device)  # data
        raise TypeError(f"{self.name}(...) takes sizes (ints) or one sequence of data, got "
                        f"{', '.join(type(a).__name__ for a in args)}")

    def __repr__(self):
        return f"<class '{self.name}'>"


FloatTensor = TensorType(np.float32, "cpu")
DoubleTensor = TensorType(np.float64, "cpu")
HalfTensor = TensorType(np.float16, "cpu")
LongTensor = TensorType(np.int64, "cpu")
IntTensor = TensorType(np.int32, "cpu")
ByteTensor = TensorType(np.uint8, "cpu")
BoolTensor = TensorType(np.bool_, "cpu")
CUDA_TYPES = {f"{TYPE_WORDS[np.dtype(t.dtype)]}Tensor": TensorType(t.dtype, "cuda")
              for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ByteTensor, BoolTensor)}


def type_name(tensor):
    """t.type() with no argument: 'torch.FloatTensor', 'torch.cuda.FloatTensor', ..."""
    return TensorType(tensor.dtype, tensor.device).name


def tensor_type(name):
    """The TensorType for a string such as 'torch.FloatTensor' or 'torch.cuda.LongTensor'."""
    word = name.rpartition(".")[2]
    if name.startswith("torch.cuda.") and word in CUDA_TYPES:
        return CUDA_TYPES[word]
    for dtype, known in TYPE_WORDS.items():
        if name in (f"torch.{known}Tensor", f"{known}Tensor"):
            return TensorType(dtype, "cpu")
    raise ValueError(f"invalid type: {name!r} (expected e.g. 'torch.FloatTensor' or 'torch.cuda.FloatTensor')")


def Variable(data, requires_grad=False, volatile=False):
    """torch.autograd.Variable: since PyTorch 0.4 a Variable is just a Tensor.

    Returns a new leaf tensor sharing `data`'s memory, requiring grad if asked (the original
    is left as it was). `volatile` is ignored, as in PyTorch: use `with mg.no_grad():`.
    """
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable(data) takes a Tensor, got {type(data).__name__}; use mg.tensor(...)")
    if volatile:
        warnings.warn("volatile was removed and now has no effect. Use `with mg.no_grad():` instead.",
                      UserWarning, stacklevel=2)
    return data.detach().requires_grad_(requires_grad)
