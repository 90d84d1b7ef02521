"""Census of the PyTorch names that real training code uses, and whether minigrad has each one.

Run:  python tools/api_census.py DIR_OR_FILE... [--json out.json] [--markdown out.md] [--min-files 2]
                                 [--exclude GLOB]... [--minigrad-root DIR]

Every .py file under the given folders is parsed with `ast` (a file that does not parse, such as
Python 2 code, is counted and skipped). Import aliases are followed, so `nn.Linear` after
`import torch.nn as nn`, `F.relu` after `import torch.nn.functional as F`, and `DataLoader` after
`from torch.utils.data import DataLoader` all count as their full names (`torch.nn.Linear`, ...).
An imported name or module that the file never uses (nothing under it either) counts once:
the import alone needs it.

Tensor, Module and Optimizer methods cannot be typed without running the code, so every
`.name(...)` call whose name is on PyTorch's list of Tensor (or nn.Module, or Optimizer) methods
counts as that method, on whatever object it is called; so does reading a Tensor property
(`.grad`, `.is_leaf`, `.shape`). Calls on an imported module (`np.sum(...)`), on literals
(`", ".join(...)`), str/list-looking calls (`s.split()`, `xs.sort(key=...)`, a string first argument)
and the names in NOT_COUNTED are left out, and so are Tensor names on `self` (`self.prelu(x)` calls a
submodule, `self.data` is a dataset's field; PyTorch's Tensor is rarely subclassed). An import
alias that a function's own variable hides (`data` after `from torch.utils import data`) is that
variable inside the function.
The method lists were taken from PyTorch 2.13 and are stored below, so the census runs without
PyTorch and gives the same answer wherever it runs.

For each name: uses (occurrences), files (how many files use it), scope, and status in minigrad:
  yes      minigrad has the same dotted name (torch.nn.functional.x -> minigrad.nn.functional.x,
           Tensor.x -> minigrad.Tensor.x, Module.x -> minigrad.nn.Module.x)
  differs  minigrad has it, but it deliberately behaves differently (the DIFFERS table below)
  no       minigrad lacks it

With --markdown FILE: if FILE has the lines `<!-- census:begin -->` and `<!-- census:end -->`,
only the text between them is replaced (the rest of the document is kept); otherwise FILE is
written with the census alone. minigrad is imported from --minigrad-root (default: this checkout),
so a census can be judged against any copy, e.g. one exported from a commit with `git archive`.
Exit status 2 (and one line) when an input does not exist or minigrad does not import.
"""

import argparse
import ast
import fnmatch
import importlib
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Hand-kept tables. Edit these.
# ---------------------------------------------------------------------------------------------

# Names minigrad has but runs differently, with the reason (docs/differences.md says more).
# Keys are fnmatch patterns on the census name.
DIFFERS = {
    "torch.save": "pickle-free .npz: state dicts, tensors and plain containers; a whole Module is refused",
    "torch.load": "reads mg.save files only (no pickle); not PyTorch's .pt files",
    "torch.device": "mg.device also compares equal to its string (mg.device('cpu') == 'cpu')",
    "Tensor.device": "an mg.device, which also compares equal to its string",
    "torch.float*": "dtypes are NumPy dtypes",
    "torch.double": "dtypes are NumPy dtypes",
    "torch.half": "dtypes are NumPy dtypes",
    "torch.int*": "dtypes are NumPy dtypes",
    "torch.long": "dtypes are NumPy dtypes",
    "torch.uint8": "dtypes are NumPy dtypes",
    "torch.bool": "dtypes are NumPy dtypes",
    "torch.short": "dtypes are NumPy dtypes",
    "Tensor.dtype": "a NumPy dtype",
    "Tensor.contiguous": "returns the tensor itself (NumPy handles any layout)",
    "Tensor.view": "same as reshape: copies when a view is impossible, never raises",
    "Tensor.numpy": "allowed on a tensor that requires grad",
    "Tensor.*_": "recorded by autograd; an op that used the tensor before the change refuses backward, and so "
                 "does one that uses a view's base after the view changed",
    "torch.autograd.Variable": "a new leaf sharing memory; volatile=True warns and is ignored",
    "torch.*Tensor": "FloatTensor(2, 3) and the like give zeros, not uninitialised memory",
    "torch.empty": "gives zeros, not uninitialised memory",
    "torch.utils.data.DataLoader": "num_workers and pin_memory are accepted and ignored (one process)",
    "torch.nn.functional.interpolate": "modes nearest and (bi/tri)linear only; no antialias",
    "torch.nn.Upsample": "modes nearest and (bi/tri)linear only",
    "torch.nn.Conv2d": "groups=1 only",
    "torch.nn.ConvTranspose2d": "groups=1 only",
    "torch.nn.functional.conv2d": "groups=1 only",
    "torch.nn.functional.conv_transpose2d": "groups=1 only",
    "torch.nn.functional.pad": "constant, reflect and replicate; no circular, no negative (cropping) padding",
    "torch.nn.Embedding": "a plain lookup table: no padding_idx, max_norm, ...",
    "Module.eval": "sets .training on every submodule without calling a subclass's train()",
    "Module.train": "sets .training on every submodule without calling a subclass's train()",
    "torch.no_grad": "as a decorator it needs the parentheses: @no_grad()",
    "torch.manual_seed": "NumPy generators: the same seed gives different numbers than PyTorch",
    "torch.optim.lr_scheduler.*": "step(epoch) is refused: call step() once per epoch",
    "torch.set_num_threads": "also holds NumPy's BLAS to one thread for the whole process",
}

# Names outside what minigrad aims at (training code for vision, GANs, VAEs and small sequence
# models on one device). Checked in order; the first matching pattern gives the reason.
OUT_OF_SCOPE = [
    ("torch._*", "private"), ("*._*", "private"),
    ("torch.distributed*", "distributed"), ("torch.nn.parallel*", "multi-device"),
    ("torch.nn.DataParallel", "multi-device"), ("torch.utils.data.distributed*", "distributed"),
    ("torch.multiprocessing*", "multi-process"), ("Tensor.share_memory_", "multi-process"),
    ("Tensor.is_shared", "multi-process"), ("Module.share_memory", "multi-process"),
    ("Tensor.record_stream", "CUDA streams"), ("torch.cuda.Stream*", "CUDA streams"),
    ("torch.cuda.stream*", "CUDA streams"), ("torch.cuda.Event", "CUDA streams"),
    ("torch.fx*", "graph capture"), ("torch.jit*", "compilation"), ("torch.compile*", "compilation"),
    ("torch.export*", "compilation"), ("torch.package*", "compilation"), ("Module.compile", "compilation"),
    ("torch.onnx*", "export"), ("torch.quantiz*", "quantization"), ("torch.ao*", "quantization"),
    ("torch.nn.quantized*", "quantization"), ("torch.nn.qat*", "quantization"),
    ("torch.nn.intrinsic*", "quantization"), ("torch.dequantize", "quantization"),
    ("Tensor.q_*", "quantization"), ("Tensor.dequantize", "quantization"), ("Tensor.int_repr", "quantization"),
    ("Tensor.is_quantized", "quantization"), ("torch.qint*", "quantization"), ("torch.quint*", "quantization"),
    ("torch.sparse*", "sparse"), ("Tensor.to_sparse*", "sparse"), ("Tensor.is_sparse*", "sparse"),
    ("Tensor.coalesce", "sparse"), ("Tensor.to_dense", "sparse"), ("Tensor.indices", "sparse"),
    ("Tensor.values", "sparse"), ("torch.complex*", "complex"), ("torch.cfloat", "complex"),
    ("torch.cdouble", "complex"), ("torch.view_as_real", "complex"), ("torch.view_as_complex", "complex"),
    ("torch.fft*", "complex"), ("torch.stft", "complex"), ("torch.istft", "complex"),
    ("Tensor.real", "complex"), ("Tensor.imag", "complex"), ("Tensor.conj*", "complex"),
    ("Tensor.angle", "complex"), ("Tensor.H", "complex"), ("Tensor.mH", "complex"),
    ("torch.hub*", "downloads"), ("torch.utils.model_zoo*", "downloads"),
    ("torch.profiler*", "profiling"), ("torch.autograd.profiler*", "profiling"),
    ("torch.utils.benchmark*", "profiling"), ("torch.utils.bottleneck*", "profiling"),
    ("torch.utils.tensorboard*", "logging"), ("torch.utils.cpp_extension*", "C++ extensions"),
    ("torch.library*", "C++ extensions"), ("torch.ops*", "C++ extensions"),
    ("torch.amp*", "mixed precision"), ("torch.cuda.amp*", "mixed precision"), ("torch.cpu.amp*", "mixed precision"),
    ("torch.autocast", "mixed precision"), ("torch.bfloat16", "mixed precision"), ("*.bfloat16", "mixed precision"),
    ("torch.backends.mps*", "other devices"), ("torch.mps*", "other devices"), ("torch.xpu*", "other devices"),
    ("torch.backends.mkldnn*", "other devices"),
    ("Tensor.xpu", "other devices"), ("Tensor.ipu", "other devices"), ("Tensor.mtia", "other devices"),
    ("Module.xpu", "other devices"), ("Module.ipu", "other devices"), ("Module.mtia", "other devices"),
    ("Tensor.is_xpu", "other devices"), ("Tensor.is_ipu", "other devices"), ("Tensor.is_mtia", "other devices"),
    ("Tensor.is_mps", "other devices"), ("Tensor.is_xla", "other devices"), ("Tensor.is_vulkan", "other devices"),
    ("Tensor.is_maia", "other devices"), ("Tensor.is_mkldnn", "other devices"), ("Tensor.is_meta", "other devices"),
    ("Tensor.is_nested", "nested tensors"), ("torch.nested*", "nested tensors"),
    ("Tensor.storage*", "storage internals"), ("Tensor.untyped_storage", "storage internals"),
    ("Tensor.data_ptr", "storage internals"), ("torch.testing*", "testing helpers"),
    ("torch.classes*", "C++ extensions"), ("torch.futures*", "distributed"), ("torch.cuda.nccl*", "distributed"),
    ("torch.spmm", "sparse"), ("torch.polar", "complex"),
    ("torch.nn.NonDynamicallyQuantizableLinear", "quantization"),
    ("torch.serialization.*safe_globals", "pickle loading (minigrad never unpickles)"),
]

# Where PyTorch defines a name and where code usually imports it from: the census counts the latter.
CANONICAL = [
    ("torch.nn.modules.*.", "torch.nn."),
    ("torch.utils.data.dataloader.", "torch.utils.data."),
    ("torch.utils.data.dataset.", "torch.utils.data."),
    ("torch.utils.data.sampler.", "torch.utils.data."),
]

# Method names that other common objects also have; the note goes beside the count.
FALSE_FRIENDS = {
    "resize": "also PIL's Image.resize",
    "trace": "also torch.fx's Tracer.trace",
    "add": "also set.add",
    "index": "also list.index and str.index",
    "sort": "also list.sort",
    "split": "also str.split (calls with no argument or a string first argument are left out)",
    "values": "also dict.values",
    "step": "also the LR schedulers' step",
}

# Method names not counted at all: in this kind of code they are nearly always something else.
NOT_COUNTED = {
    "index": "list.index and str.index (Tensor.index is not documented API)",
    "resize": "PIL's Image.resize (Tensor.resize is deprecated in PyTorch)",
}

# Packages that are not PyTorch itself: their names are counted in a table of their own.
OTHER_PACKAGES = ("torchvision", "torchaudio", "torchtext")

# ---------------------------------------------------------------------------------------------
# PyTorch's method lists (from PyTorch 2.13: public callables of torch.Tensor, torch.nn.Module,
# torch.optim.Optimizer, and public non-callable attributes of torch.Tensor but `name`).
# ---------------------------------------------------------------------------------------------

TENSOR_METHODS = """
    abs abs_ absolute absolute_ acos acos_ acosh acosh_ add add_ addbmm addbmm_ addcdiv addcdiv_ addcmul
    addcmul_ addmm addmm_ addmv addmv_ addr addr_ adjoint all allclose amax amin aminmax angle any apply_
    arccos arccos_ arccosh arccosh_ arcsin arcsin_ arcsinh arcsinh_ arctan arctan2 arctan2_ arctan_ arctanh
    arctanh_ argmax argmin argsort argwhere as_strided as_strided_ as_strided_scatter as_subclass asin asin_
    asinh asinh_ atan atan2 atan2_ atan_ atanh atanh_ backward baddbmm baddbmm_ bernoulli bernoulli_
    bfloat16 bincount bitwise_and bitwise_and_ bitwise_left_shift bitwise_left_shift_ bitwise_not
    bitwise_not_ bitwise_or bitwise_or_ bitwise_right_shift bitwise_right_shift_ bitwise_xor bitwise_xor_
    bmm bool broadcast_to byte cauchy_ ccol_indices cdouble ceil ceil_ cfloat chalf char cholesky
    cholesky_inverse cholesky_solve chunk clamp clamp_ clamp_max clamp_max_ clamp_min clamp_min_ clip clip_
    clone coalesce col_indices conj conj_physical conj_physical_ const_data_ptr contiguous copy_ copysign
    copysign_ corrcoef cos cos_ cosh cosh_ count_nonzero cov cpu cross crow_indices cuda cummax cummin
    cumprod cumprod_ cumsum cumsum_ data_ptr deg2rad deg2rad_ dense_dim dequantize det detach detach_ diag
    diag_embed diagflat diagonal diagonal_scatter diff digamma digamma_ dim dim_order dist div div_ divide
    divide_ dot double dsplit eig element_size eq eq_ equal erf erf_ erfc erfc_ erfinv erfinv_ exp exp2
    exp2_ exp_ expand expand_as expm1 expm1_ exponential_ fill_ fill_diagonal_ fix fix_ flatten flip fliplr
    flipud float float_power float_power_ floor floor_ floor_divide floor_divide_ fmax fmin fmod fmod_ frac
    frac_ frexp gather gcd gcd_ ge ge_ geometric_ geqrf ger get_device greater greater_ greater_equal
    greater_equal_ gt gt_ half hardshrink hash_tensor heaviside heaviside_ histc histogram hsplit hypot
    hypot_ i0 i0_ igamma igamma_ igammac igammac_ index index_add index_add_ index_copy index_copy_
    index_fill index_fill_ index_put index_put_ index_reduce index_reduce_ index_select indices inner int
    int_repr inverse ipu is_coalesced is_complex is_conj is_contiguous is_distributed is_floating_point
    is_inference is_neg is_nonzero is_pinned is_same_size is_set_to is_shared is_signed isclose isfinite
    isinf isnan isneginf isposinf isreal istft item kron kthvalue lcm lcm_ ldexp ldexp_ le le_ lerp lerp_
    less less_ less_equal less_equal_ lgamma lgamma_ log log10 log10_ log1p log1p_ log2 log2_ log_
    log_normal_ log_softmax logaddexp logaddexp2 logcumsumexp logdet logical_and logical_and_ logical_not
    logical_not_ logical_or logical_or_ logical_xor logical_xor_ logit logit_ logsumexp long lstsq lt lt_ lu
    lu_solve map2_ map_ masked_fill masked_fill_ masked_scatter masked_scatter_ masked_select matmul
    matrix_exp matrix_power max maximum mean median min minimum mm mode module_load moveaxis movedim msort
    mtia mul mul_ multinomial multiply multiply_ mv mvlgamma mvlgamma_ nan_to_num nan_to_num_ nanmean
    nanmedian nanquantile nansum narrow narrow_copy ndimension ne ne_ neg neg_ negative negative_ nelement
    new new_empty new_empty_strided new_full new_ones new_tensor new_zeros nextafter nextafter_ nonzero
    nonzero_static norm normal_ not_equal not_equal_ numel numpy orgqr ormqr outer permute pin_memory
    pinverse polygamma polygamma_ positive pow pow_ prelu prod put put_ q_per_channel_axis
    q_per_channel_scales q_per_channel_zero_points q_scale q_zero_point qr qscheme quantile rad2deg rad2deg_
    random_ ravel reciprocal reciprocal_ record_stream register_hook register_post_accumulate_grad_hook
    reinforce relu relu_ remainder remainder_ renorm renorm_ repeat repeat_interleave requires_grad_ reshape
    reshape_as resize resize_ resize_as resize_as_ resize_as_sparse_ resolve_conj resolve_neg retain_grad
    roll rot90 round round_ row_indices rsqrt rsqrt_ scatter scatter_ scatter_add scatter_add_
    scatter_reduce scatter_reduce_ select select_scatter set_ sgn sgn_ share_memory_ short sigmoid sigmoid_
    sign sign_ signbit sin sin_ sinc sinc_ sinh sinh_ size slice_inverse slice_scatter slogdet smm softmax
    solve sort sparse_dim sparse_mask sparse_resize_ sparse_resize_and_clear_ split split_with_sizes sqrt
    sqrt_ square square_ squeeze squeeze_ sspaddmm std stft storage storage_offset storage_type stride sub
    sub_ subtract subtract_ sum sum_to_size svd swapaxes swapaxes_ swapdims swapdims_ symeig t t_ take
    take_along_dim tan tan_ tanh tanh_ tensor_split tile to to_dense to_mkldnn to_padded_tensor to_sparse
    to_sparse_bsc to_sparse_bsr to_sparse_coo to_sparse_csc to_sparse_csr tolist topk trace transpose
    transpose_ triangular_solve tril tril_ triu triu_ true_divide true_divide_ trunc trunc_ type type_as
    unbind unflatten unfold uniform_ unique unique_consecutive unsafe_chunk unsafe_split
    unsafe_split_with_sizes unsqueeze unsqueeze_ untyped_storage values var vdot view view_as vsplit where
    xlogy xlogy_ xpu zero_
""".split()

TENSOR_PROPERTIES = """
    H T data device dtype grad grad_dtype grad_fn imag is_cpu is_cuda is_ipu is_leaf is_maia is_meta
    is_mkldnn is_mps is_mtia is_nested is_quantized is_sparse is_sparse_csr is_vulkan is_xla is_xpu itemsize
    layout mH mT nbytes ndim output_nr real requires_grad retains_grad shape volatile
""".split()

MODULE_METHODS = """
    add_module apply bfloat16 buffers children compile cpu cuda double eval extra_repr float forward
    get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia
    named_buffers named_children named_modules named_parameters parameters register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train type xpu
    zero_grad
""".split()

OPTIMIZER_METHODS = """
    add_param_group load_state_dict profile_hook_step register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_state_dict_post_hook register_state_dict_pre_hook
    register_step_post_hook register_step_pre_hook state_dict step zero_grad
""".split()

# A method name belongs to the first family that lists it; its status needs every family that
# lists it (e.g. `.cuda()` must exist on both minigrad.Tensor and minigrad.nn.Module).
FAMILIES = [("Tensor", set(TENSOR_METHODS) | set(TENSOR_PROPERTIES)), ("Module", set(MODULE_METHODS)),
            ("Optimizer", set(OPTIMIZER_METHODS))]
MINIGRAD_CLASS = {"Tensor": "minigrad.Tensor", "Module": "minigrad.nn.Module",
                  "Optimizer": "minigrad.optim.Optimizer"}

# Method names that are also methods of str, bytes, list, dict or set: a call whose first argument
# is a string literal is taken to be one of those, and so is `.split()` with no argument.
AMBIGUOUS = {name for kind in (str, bytes, list, dict, set) for name in dir(kind) if not name.startswith("_")}


# ---------------------------------------------------------------------------------------------
# Reading source
# ---------------------------------------------------------------------------------------------

def is_torch_path(path):
    return path == "torch" or path.startswith("torch.")


def is_other_package(path):
    return path.split(".")[0] in OTHER_PACKAGES


def dotted(node):
    """`a.b.c` as (root Name node, ["b", "c"]), or (None, None) when the chain is not rooted at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node, parts[::-1]
    return None, None


def canonical(path):
    for prefix, replacement in CANONICAL:
        if "*" in prefix:
            head, _, tail = prefix.partition("*")
            if path.startswith(head):
                rest = path[len(head):]
                cut = rest.find(tail)
                if cut > 0 and "." not in rest[:cut]:
                    return replacement + rest[cut + len(tail):]
        elif path.startswith(prefix):
            return replacement + path[len(prefix):]
    return path


def called(node):
    """The Call node when `node` (an Attribute) is what is called, as in `x.name(...)`; else None."""
    call = getattr(node, "parent", None)
    return call if isinstance(call, ast.Call) and call.func is node else None


def looks_like_str_call(node):
    """True for `x.split()`, `x.sort(key=...)` and `x.name("literal", ...)`: str/list methods, not a tensor's."""
    call = called(node)
    if call is None:
        return False
    if any(keyword.arg in ("key", "reverse") for keyword in call.keywords):
        return True
    if not call.args:
        return node.attr == "split"
    first = call.args[0]
    is_text = isinstance(first, ast.Constant) and isinstance(first.value, (str, bytes))
    return is_text or isinstance(first, ast.JoinedStr)


def bound_names(body_nodes):
    """Names that statements bind by assignment, loops, with, except, def, class or parameters (not imports)."""
    names = set()
    for top in body_nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not top:
                names.add(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names.add(node.name)
    return names


def method_family(name):
    for family, names in FAMILIES:
        if name in names:
            return family
    return None


class FileCensus(ast.NodeVisitor):
    """The PyTorch names one parsed file uses: `self.uses[name]` is the number of occurrences."""

    def __init__(self):
        self.shadowed = set()       # import aliases that a local variable hides where we are
        self.imported = []          # torch paths that import statements need
        self.uses = defaultdict(int)
        self.aliases = {}           # local name -> dotted path of a module or name it was imported as
        self.module_aliases = set()  # local names bound to any imported module (torch or not)
        self.from_imported = {}     # local name -> torch path, for names bound by `from torch... import`
        self.imports_torch = False

    def read(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                        self.module_aliases.add(alias.asname)
                    else:
                        top = alias.name.split(".")[0]
                        self.aliases[top] = top
                        self.module_aliases.add(top)
                    if is_torch_path(alias.name) or is_other_package(alias.name):
                        self.imports_torch = True
                        if alias.name.count("."):   # `import torch.backends.cudnn` needs that module
                            self.imported.append(canonical(alias.name))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    path = f"{node.module}.{alias.name}"
                    local = alias.asname or alias.name
                    self.aliases[local] = path
                    if is_torch_path(path) or is_other_package(path):
                        self.imports_torch = True
                        self.from_imported[local] = canonical(path)
                        self.imported.append(canonical(path))
                    else:
                        self.module_aliases.add(local)  # unknown, may be a module: never a tensor
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node
        # A name bound at module level by anything but an import is no longer the import, anywhere.
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        module_level = [n for n in tree.body if not isinstance(n, definitions)]
        self.shadowed = bound_names(module_level) & set(self.aliases)
        self.visit(tree)
        # An import the file needs counts once when nothing below it is used (the import alone needs it).
        for path in self.imported:
            if not any(name == path or name.startswith(path + ".") for name in self.uses):
                self.uses[path] += 1

    def visit_FunctionDef(self, node):
        outer = self.shadowed
        self.shadowed = outer | (bound_names(node.body + [node.args]) & set(self.aliases))
        self.generic_visit(node)
        self.shadowed = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        outer = self.shadowed
        self.shadowed = outer | (bound_names([node.args]) & set(self.aliases))
        self.generic_visit(node)
        self.shadowed = outer

    def resolve(self, root, parts):
        base = self.aliases.get(root.id)
        if base is None or root.id in self.shadowed:
            return None
        return canonical(".".join([base] + [p for p in parts if not (p.startswith("__") and p.endswith("__"))]))

    def visit_Attribute(self, node):
        root, parts = dotted(node)
        if root is not None:
            path = self.resolve(root, parts)
            if path is not None and (is_torch_path(path) or is_other_package(path)):
                self.uses[path] += 1
                return
            if root.id in self.module_aliases and root.id not in self.shadowed:  # np.sum, os.path.join
                return
        literal = (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp)
        family = method_family(node.attr)
        if family == "Tensor" and isinstance(node.value, ast.Name) and node.value.id == "self":
            family = None  # `self.prelu(x)`, `self.data`: a submodule or a dataset's field, not a tensor's
        if family is not None and self.counts_as_method(node):
            self.uses[f"{family}.{node.attr}"] += 1
        self.generic_visit(node)

    @staticmethod
    def counts_as_method(node):
        """`x.name(...)` for a method name, `x.name` for a Tensor property; not on literals, not str-like calls."""
        literal = (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp)
        if isinstance(node.value, literal) or node.attr in NOT_COUNTED:
            return False
        if node.attr not in TENSOR_PROPERTIES and called(node) is None:  # `self.stride = 2` is no call
            return False
        return not (node.attr in AMBIGUOUS and looks_like_str_call(node))

    def visit_Name(self, node):
        path = self.from_imported.get(node.id)
        if path is not None and isinstance(node.ctx, ast.Load) and node.id not in self.shadowed:
            self.uses[path] += 1


def census_file(source):
    """(uses, imports_torch) of one file's source text; raises SyntaxError (and ValueError) if unparsable."""
    tree = ast.parse(source)
    reader = FileCensus()
    reader.read(tree)
    return dict(reader.uses), reader.imports_torch


def python_files(inputs, exclude=()):
    """The .py files under `inputs`, sorted, less those whose path matches an `exclude` pattern."""
    files = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.py") if p.is_file()))
        else:
            files.append(path)
    return [f for f in files if not any(fnmatch.fnmatch(f.as_posix(), pattern) for pattern in exclude)]


def take_census(inputs, exclude=()):
    """Read every .py file under `inputs`; return {"files": {...}, "names": {name: {"uses", "files"}}}."""
    names = defaultdict(lambda: {"uses": 0, "files": 0})
    counts = {"read": 0, "unparsable": 0, "using_torch": 0}
    for path in python_files(inputs, exclude):
        counts["read"] += 1
        try:
            uses, imports_torch = census_file(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            counts["unparsable"] += 1
            continue
        counts["using_torch"] += imports_torch
        for name, n in uses.items():
            names[name]["uses"] += n
            names[name]["files"] += 1
    return {"files": counts, "names": dict(names)}


# ---------------------------------------------------------------------------------------------
# Judging each name
# ---------------------------------------------------------------------------------------------

def scope_of(name):
    """("in", "") or ("out", reason) or ("other package", package)."""
    if is_other_package(name):
        return "other package", name.split(".")[0]
    for pattern, reason in OUT_OF_SCOPE:
        if fnmatch.fnmatchcase(name, pattern):
            return "out", reason
    return "in", ""


MISSING = object()


def lookup(dotted_path, package="minigrad"):
    """The object at `dotted_path` ("minigrad.nn.functional.relu") in `package`, importing submodules as
    needed; MISSING when there is none. `package` names the package that stands for minigrad."""
    parts = [package] + dotted_path.split(".")[1:]
    obj = importlib.import_module(package)
    for i, part in enumerate(parts[1:], start=1):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[: i + 1]))
        except ImportError:
            return MISSING
    return obj


def minigrad_has(name, package="minigrad"):
    """(present, note) for a census name. A method is judged on its own family's class; the note names
    the other classes that PyTorch gives the method but minigrad does not (`.type()` on nn.Module)."""
    family, _, method = name.partition(".")
    if family in MINIGRAD_CLASS:
        present = hasattr(lookup(MINIGRAD_CLASS[family], package), method)
        others = [MINIGRAD_CLASS[f] for f, names in FAMILIES if f != family and method in names
                  and not hasattr(lookup(MINIGRAD_CLASS[f], package), method)]
        return present, (f"not on {', '.join(others)}" if others else "")
    if name.startswith("torch.Tensor."):
        return minigrad_has("Tensor." + name[len("torch.Tensor."):], package)
    return lookup("minigrad" + name[len("torch"):], package) is not MISSING, ""


def differs_reason(name):
    for pattern, reason in DIFFERS.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    return ""


def judge(census, package="minigrad"):
    """One row per name of a census (counts, scope, status, reason), most used first."""
    rows = []
    for name, counts in census["names"].items():
        scope, scope_reason = scope_of(name)
        row = {"name": name, **counts, "scope": scope, "scope_reason": scope_reason, "status": "", "reason": ""}
        if scope != "other package":
            present, note = minigrad_has(name, package)
            reason = differs_reason(name) if present else ""
            row["status"] = "differs" if reason else ("yes" if present else "no")
            family, _, method = name.partition(".")
            notes = [reason, note, FALSE_FRIENDS.get(method, "") if family in MINIGRAD_CLASS else ""]
            row["reason"] = "; ".join(n for n in notes if n)
        rows.append(row)
    rows.sort(key=lambda r: (-r["files"], -r["uses"], r["name"]))
    return rows


def summary(census, rows):
    inscope = [r for r in rows if r["scope"] == "in"]
    frequent = [r for r in inscope if r["files"] >= 2]

    def present(group):
        return sum(r["status"] != "no" for r in group)

    return {
        **{f"files_{k}": v for k, v in census["files"].items()},
        "names_in_scope": len(inscope),
        "present_in_scope": present(inscope),
        "names_in_scope_2_files": len(frequent),
        "present_in_scope_2_files": present(frequent),
        "names_out_of_scope": sum(r["scope"] == "out" for r in rows),
        "names_other_packages": sum(r["scope"] == "other package" for r in rows),
    }


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def share(part, whole):
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "0/0"


def markdown(figures, rows, min_files=1):
    lines = [
        f"Files read: {figures['files_read']} ({figures['files_unparsable']} did not parse and were skipped); "
        f"{figures['files_using_torch']} import torch or torchvision.",
        "",
        f"- Distinct in-scope names: {figures['names_in_scope']}; minigrad has "
        f"{share(figures['present_in_scope'], figures['names_in_scope'])} (yes or differs).",
        f"- Among names used in at least 2 files: minigrad has "
        f"{share(figures['present_in_scope_2_files'], figures['names_in_scope_2_files'])}.",
        f"- Out of scope: {figures['names_out_of_scope']} names; other packages (torchvision, ...): "
        f"{figures['names_other_packages']} names.",
        "",
        f"### In-scope names{' used in at least %d files' % min_files if min_files > 1 else ''}",
        "",
        "| name | uses | files | status | reason |",
        "|---|---:|---:|---|---|",
    ]
    lines += [f"| `{r['name']}` | {r['uses']} | {r['files']} | {r['status']} | {r['reason']} |"
              for r in rows if r["scope"] == "in" and r["files"] >= min_files]
    lines += ["", "### Out of scope", "", "| name | uses | files | why out of scope | in minigrad |",
              "|---|---:|---:|---|---|"]
    lines += [f"| `{r['name']}` | {r['uses']} | {r['files']} | {r['scope_reason']} | {r['status']} |"
              for r in rows if r["scope"] == "out" and r["files"] >= min_files]
    lines += ["", "### Other packages (not PyTorch itself)", "", "| name | uses | files |", "|---|---:|---:|"]
    lines += [f"| `{r['name']}` | {r['uses']} | {r['files']} |"
              for r in rows if r["scope"] == "other package" and r["files"] >= min_files]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- census:begin -->", "<!-- census:end -->"


def write_markdown(path, text):
    path = Path(path)
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if BEGIN in old and END in old:
            head, rest = old.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            path.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")
            return
    path.write_text(text, encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Which PyTorch names does this code use, and does minigrad have them?")
    parser.add_argument("inputs", nargs="+", help="folders (searched for .py files) or .py files")
    parser.add_argument("--json", help="write the census as JSON here")
    parser.add_argument("--markdown", help="write the markdown tables here (between census markers if present)")
    parser.add_argument("--min-files", type=int, default=1, help="list only names used in at least this many files")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="leave out files whose path matches (fnmatch, e.g. '*/distributed/*'); repeatable")
    parser.add_argument("--minigrad-root", default=str(REPO_ROOT), help="folder holding the minigrad package to judge")
    args = parser.parse_args(argv)

    for given in args.inputs:
        if not Path(given).exists():
            print(f"api_census: {given}: no such file or folder", file=sys.stderr)
            return 2

    sys.path.insert(0, args.minigrad_root)
    try:
        importlib.import_module("minigrad")
    except Exception as error:  # noqa: BLE001  (any failure to import is reported the same way)
        print(f"api_census: minigrad does not import from {args.minigrad_root}: {error}", file=sys.stderr)
        return 2
    census = take_census(args.inputs, args.exclude)
    rows = judge(census)
    figures = summary(census, rows)
    text = markdown(figures, rows, args.min_files)
    if args.json:
        listed = [r for r in rows if r["files"] >= args.min_files]
        Path(args.json).write_text(json.dumps({"summary": figures, "names": listed}, indent=1) + "\n")
    if args.markdown:
        write_markdown(args.markdown, text)
    if not args.json and not args.markdown:
        sys.stdout.write(text)
    else:
        print(text.split("\n### ")[0].strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
