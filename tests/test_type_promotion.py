"""Type promotion (minigrad/ops/promotion.py) against PyTorch: for a table of operand pairs and
ops, the dtype mg.result_type predicts, the dtype the op gives, and the values, each compared with
torch.result_type and torch's own result."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def operand(kind, dtype, library):
    """A tensor with dims ("dims"), a 0-d tensor ("0-d"), or a Python number ("number": dtype
    names bool, int or float) of the given dtype, in minigrad or torch."""
    if kind == "number":
        return {"bool": True, "int": 3, "float": 2.5}[dtype]
    values = np.array([3, 1, 2]) if kind == "dims" else np.array(2)
    array = values.astype(dtype)
    if library is torch:
        return torch.from_numpy(array.copy())
    return mg.tensor(array)


def torch_name(dtype):
    return str(dtype).replace("torch.", "")


OPERANDS = ([("dims", d) for d in DTYPES] + [("0-d", d) for d in DTYPES]
            + [("number", n) for n in ("bool", "int", "float")])


@pytest.mark.parametrize("left", OPERANDS, ids=lambda o: f"{o[0]}-{o[1]}")
@pytest.mark.parametrize("right", [o for o in OPERANDS if o[0] != "number"], ids=lambda o: f"{o[0]}-{o[1]}")
def test_result_type_matches_torch(left, right):
    expected = torch.result_type(operand(*left, torch), operand(*right, torch)) if left[0] != "number" else \
        torch.result_type(operand(*right, torch), operand(*left, torch))
    assert str(mg.result_type(operand(*left, mg), operand(*right, mg))) == torch_name(expected)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promote_types_matches_torch(a, b):
    assert str(mg.promote_types(a, b)) == torch_name(torch.promote_types(getattr(torch, a), getattr(torch, b)))


CASES = [  # (left operand, right operand): dims tensors, 0-d tensors and numbers meeting
    (("dims", "int64"), ("dims", "float32")),
    (("dims", "int64"), ("number", "float")),
    (("dims", "int32"), ("number", "int")),
    (("dims", "uint8"), ("number", "int")),
    (("dims", "float32"), ("0-d", "float64")),
    (("dims", "int32"), ("0-d", "float64")),
    (("dims", "int8"), ("0-d", "int64")),
    (("dims", "bool"), ("dims", "bool")),
    (("dims", "bool"), ("number", "int")),
    (("dims", "bool"), ("number", "float")),
    (("dims", "bool"), ("0-d", "int32")),
    (("dims", "float16"), ("dims", "int64")),
    (("dims", "float16"), ("number", "float")),
    (("dims", "uint8"), ("dims", "int8")),
    (("dims", "int16"), ("dims", "float64")),
    (("0-d", "int32"), ("0-d", "float16")),
    (("0-d", "float64"), ("number", "float")),
    (("number", "float"), ("dims", "int64")),
    (("number", "int"), ("dims", "float16")),
]

OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "**": lambda a, b: a ** b,
    "==": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(lib.tensor([True, False, True]), a, b),
}


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0][0]}-{c[0][1]}_{c[1][0]}-{c[1][1]}")
def test_ops_give_torchs_dtype_and_values(op, case):
    (left, right), function = case, OPS[op]
    two_arguments = function.__code__.co_argcount == 2
    results = {}
    for library in (torch, mg):
        a, b = operand(*left, library), operand(*right, library)
        if not any(isinstance(v, (torch.Tensor, mg.Tensor)) for v in (a, b)):
            pytest.skip("two numbers")
        if op in ("maximum",) and not all(isinstance(v, (torch.Tensor, mg.Tensor)) for v in (a, b)):
            pytest.skip("torch.maximum takes tensors only")
        try:
            with np.errstate(all="ignore"):
                results[library] = function(a, b) if two_arguments else function(library, a, b)
        except (RuntimeError, TypeError) as error:
            results[library] = error
    expected, got = results[torch], results[mg]
    if isinstance(expected, Exception):
        assert isinstance(got, Exception), f"torch refuses ({expected}), minigrad gave {got}"
        return
    assert not isinstance(got, Exception), got
    assert str(got.dtype) == torch_name(expected.dtype)
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy().astype(np.float64), expected.numpy().astype(np.float64),
                               rtol=1e-3 if "float16" in str(case) else 1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_true_division_of_integers_gives_the_default_float(dtype):
    a = np.array([1, 2, 3]).astype(dtype)
    got = mg.tensor(a) / mg.tensor(np.array([2, 2, 2]).astype(dtype))
    assert got.dtype == mg.float32
    assert (mg.tensor(a) / 2).dtype == mg.float32


def test_the_default_dtype_decides_what_python_floats_and_integer_division_give():
    previous = mg.get_default_dtype()
    mg.set_default_dtype(mg.float64)
    try:
        assert (mg.tensor([1, 2]) * 2.5).dtype == mg.float64
        assert (mg.tensor([1, 2]) / mg.tensor([2, 2])).dtype == mg.float64
        assert (mg.tensor([1.0], dtype=mg.float32) * 2.5).dtype == mg.float32
    finally:
        mg.set_default_dtype(previous)


def test_gradient_flows_to_a_float16_operand_of_a_float32_op():
    a = mg.tensor([1.0, 2.0], dtype=mg.float16, requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    out = a * b
    assert out.dtype == mg.float32
    out.sum().backward()
    assert a.grad.dtype == mg.float16 and a.grad.tolist() == [3.0, 4.0]
    assert b.grad.tolist() == [1.0, 2.0]


def test_a_python_number_wraps_around_in_a_small_integer_dtype():
    """uint8 - 1: the number takes the tensor's dtype (wrapping, as PyTorch), not NumPy's OverflowError."""
    torch_result = torch.tensor([0, 5], dtype=torch.uint8) - 1
    got = mg.tensor(np.array([0, 5], np.uint8)) - 1
    assert got.dtype == mg.uint8 and got.tolist() == torch_result.tolist()


def test_comparisons_with_python_numbers_compare_in_the_promoted_dtype():
    assert (mg.tensor([1, 2, 3]) > 1.5).tolist() == [False, True, True]
    assert (mg.tensor([1, 2, 3]) == 2.0).tolist() == [False, True, False]
    assert (mg.tensor([True, False]) == 1).tolist() == [True, False]
