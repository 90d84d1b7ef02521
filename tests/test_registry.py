"""The op registry, minigrad.autograd.OPS, and the promise that every op in it has a gradient test.

Each gradient test registers the ops it checks with @gradient_test_for (tests/helpers.py).
Importing every tests/test_*.py module here runs those decorators, so the coverage check
works when this file runs alone as well as in the whole suite."""

import importlib
import inspect
import sys
from pathlib import Path

import minigrad as mg
from helpers import COVERED
from minigrad.autograd import OPS, Function

TESTS = Path(__file__).resolve().parent


def import_every_test_module():
    """Import tests/test_*.py (the ones pytest already imported are simply looked up).

    Returns {module name: error} for modules that fail to import (say, for a missing optional
    dependency); their own collection fails loudly, and here they are named when ops are missing."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    failed = {}
    for path in sorted(TESTS.glob("test_*.py")):
        if path.stem == Path(__file__).stem:
            continue
        try:
            importlib.import_module(path.stem)
        except Exception as error:  # noqa: BLE001 - reported below, not swallowed
            failed[path.stem] = f"{type(error).__name__}: {error}"
    return failed


def test_every_op_has_a_gradient_test():
    failed = import_every_test_module()
    missing = sorted(set(OPS) - COVERED)
    unimportable = "".join(f"\n  could not import {name}: {error}" for name, error in failed.items())
    assert not missing, (f"ops without a first- and second-order gradient test: {', '.join(missing)}. Add a property test "
                         f"tagged @gradient_test_for(...) to tests/test_ops_<module>.py{unimportable}")


def test_every_covered_name_is_an_op():
    import_every_test_module()
    assert COVERED <= set(OPS), f"gradient tests for ops that no longer exist: {sorted(COVERED - set(OPS))}"


def test_registry_entries_are_functions_or_composites():
    """A Function subclass with a forward and either a backward of its own (written in minigrad
    ops, so twice differentiable) or a definition in simpler ops (a fused op, whose gradients are
    those of its definition); or a plain function (a composite)."""
    assert OPS, "the registry is empty"
    for name, op in OPS.items():
        if inspect.isclass(op):
            assert issubclass(op, Function), name
            assert op.__name__ == name
            assert op.backward is not Function.backward or op.definition is not None, \
                f"{name} has neither a backward nor a definition"
            assert op.forward is not Function.forward, f"{name} has no forward"
        else:
            assert inspect.isfunction(op), f"{name} is neither a Function subclass nor a function"
            assert op.__name__ == name
            assert op.__doc__, f"the composite {name} should say what it is made of"


def test_registry_holds_the_ops_of_every_module():
    """A sample from each ops module, so that a module that failed to register shows up here."""
    for name in ("Add", "MatMul", "Sum", "Reshape", "ReLU", "Conv2d", "BatchNorm", "NLLLoss",
                 "minimum", "std", "flatten", "mse_loss", "cross_entropy"):
        assert name in OPS, name


def test_composites_are_reachable_from_the_package():
    """Composites are ordinary functions users call: OPS holds the very function that is exported."""
    assert OPS["minimum"] is mg.minimum
    assert OPS["std"] is mg.std
    assert OPS["flatten"] is mg.flatten
    assert OPS["mse_loss"] is mg.nn.functional.mse_loss
