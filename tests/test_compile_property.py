"""mg.compile against eager on training steps drawn at random (hypothesis).

test_compile.py checks the steps we know (the benchmark's GANs, and one test per situation the
tape's schedule handles). Here hypothesis writes the steps: a list of actions over three small
layers and two optimisers (zero_grad with or without set_to_none; a forward and backward pass of
some shape: activations, BatchNorm or LayerNorm, reshapes, dropout, a gradient penalty through
create_graph; an optimiser step; gradients read, scaled in place, clipped, set to None or zeroed
through .data; a random draw; parameters decayed in place or read; a learning-rate scheduler's
step), so that the tape meets the situations in every order: gradients added into .grad by several
passes, a layer used twice (its two dL/dW summed), gradients read or changed between two passes,
dropout and draws between passes, detached inputs. The replay runs on two threads with every dL/dW
handed on as a Later (LATER_MIN lowered), as does the eager step on two threads; both are compared
with the eager step on one thread. After every call, what the step returned, every parameter,
BatchNorm's running statistics and every .grad must be the same, bit for bit.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import parallel
from minigrad.compile import Tape

CALLS = 6  # call 1 eager, calls 2-3 recorded, calls 4-6 replayed

ACTIVATIONS = {"tanh": mg.tanh, "sigmoid": mg.sigmoid, "leaky_relu": lambda x: F.leaky_relu(x, 0.2)}

passes = st.fixed_dictionaries({
    "noise": st.booleans(),            # the input drawn inside the step (mg.randn), else the argument
    "activation": st.sampled_from(sorted(ACTIVATIONS)),
    "twice": st.booleans(),            # the first layer used twice: its two weight gradients summed
    "detach": st.booleans(),           # the first layer's output detached: no gradient reaches it
    "dropout": st.booleans(),
    "middle": st.booleans(),
    "norm": st.sampled_from(["none", "batch", "layer"]),  # after the first layer: a fused op's closed form
    "view": st.booleans(),             # the hidden batch through reshapes (views of what an op made)
    "loss": st.sampled_from(["square", "bce", "sum"]),
    "penalty": st.booleans(),          # + WGAN-GP's gradient penalty (create_graph=True) at points between
    #                                    the input and noise, through a piecewise-linear path (the slopes do
    #                                    not depend on the points, so backward adds nothing into their .grad)
})
actions = st.lists(st.one_of(
    st.tuples(st.just("pass"), passes),
    st.tuples(st.just("pass"), passes),                              # (twice as likely as the others)
    st.tuples(st.just("zero"), st.integers(0, 1), st.booleans()),   # optimiser, set_to_none
    st.tuples(st.just("step"), st.integers(0, 1)),
    st.tuples(st.just("read"), st.sampled_from(["first", "rest"]), st.booleans()),  # through reshaped views, or not
    st.tuples(st.just("scale"), st.sampled_from(["first", "rest"])),    # p.grad.mul_(0.5), in place
    st.tuples(st.just("clear"), st.sampled_from(["first", "rest"]), st.booleans()),  # p.grad = None, or
    #                                                                   p.grad.data.zero_()
    st.tuples(st.just("clip"), st.sampled_from(["first", "rest"])),     # nn.utils.clip_grad_norm_
    st.tuples(st.just("draw"), st.booleans()),                       # after a dropout nothing reads, or not
    st.tuples(st.just("decay"), st.sampled_from(["first", "rest"])),    # p.mul_(0.99) under no_grad
    st.tuples(st.just("schedule"),),                                  # the second optimiser's StepLR
    st.tuples(st.just("value"), st.sampled_from(["first", "rest"])),    # a parameter's sum, returned
), min_size=1, max_size=8)


STARTS = ("zero_grad", "none_by_hand", "data_zero", "nothing")  # how a step begins: the gradients set to
# None (by zero_grad, or p.grad = None), zeroed in place (p.grad.data.zero_()), or left to add up over calls


def _run(program, compiled, start="zero_grad"):
    """Train CALLS calls of the step `program` describes; after each call, what it returned and the
    parameters' values and gradients (None where a parameter has none)."""
    mg.manual_seed(0)
    first, middle, head = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 1)
    norms = {"batch": nn.BatchNorm1d(8), "layer": nn.LayerNorm(8)}
    groups = {"first": list(first.parameters()),
              "rest": [p for m in (middle, head, norms["batch"], norms["layer"]) for p in m.parameters()]}
    optimizers = [mg.optim.AdamW(groups["first"], lr=0.01), mg.optim.SGD(groups["rest"], lr=0.05, momentum=0.9)]
    scheduler = mg.optim.lr_scheduler.StepLR(optimizers[1], step_size=2, gamma=0.5)

    def train_step(x):
        if start == "zero_grad":
            for optimizer in optimizers:
                optimizer.zero_grad()
        for p in groups["first"] + groups["rest"]:
            if start == "none_by_hand":
                p.grad = None
            elif start == "data_zero" and p.grad is not None:
                p.grad.data.zero_()
        results, has_grad = [], {"first": False, "rest": False}
        for action in program:
            kind = action[0]
            if kind == "pass":
                spec = action[1]
                act = ACTIVATIONS[spec["activation"]]
                inputs = mg.randn(8, 6) if spec["noise"] else x
                h = act(first(inputs))
                if spec["twice"]:
                    h = h + act(first(inputs * 0.5))
                if spec["norm"] != "none":
                    h = norms[spec["norm"]](h)
                if spec["view"]:
                    h = h.reshape(4, 16).reshape(8, 8)
                if spec["detach"]:
                    h = h.detach()
                if spec["dropout"]:
                    h = F.dropout(h, 0.3)
                if spec["middle"]:
                    h = act(middle(h))
                out = head(h)
                if spec["loss"] == "square":
                    loss = out.pow(2).mean()
                elif spec["loss"] == "bce":
                    loss = F.binary_cross_entropy(out.sigmoid(), mg.ones_like(out))
                else:
                    loss = out.sum() * 0.1
                if spec["penalty"]:
                    points = (inputs * 0.5 + mg.randn(8, 6) * 0.5).requires_grad_(True)
                    scores = head(F.leaky_relu(first(points), 0.2)).sum()
                    slopes, = mg.autograd.grad(scores, points, create_graph=True)
                    loss = loss + ((slopes.norm(2, dim=1) - 1) ** 2).mean()
                loss.backward()
                results.append(loss)
                has_grad["rest"] = True  # (the head's; the middle layer's only when it ran)
                has_grad["first"] = has_grad["first"] or not spec["detach"]
            elif kind == "zero":
                _, which, set_to_none = action
                optimizers[which].zero_grad(set_to_none=set_to_none)
                name = "first" if which == 0 else "rest"
                has_grad[name] = has_grad[name] and not set_to_none
            elif kind == "step":
                optimizers[action[1]].step()
            elif kind == "read" and has_grad[action[1]]:
                grads = [p.grad for p in groups[action[1]] if p.grad is not None]  # (+ any left by earlier calls)
                if action[2]:
                    results.append(mg.cat([g.reshape(-1) for g in grads]).norm())
                else:
                    results.append(sum((g * g).sum() for g in grads))
            elif kind == "scale" and has_grad[action[1]]:
                for p in groups[action[1]]:
                    if p.grad is not None:
                        p.grad.mul_(0.5)
            elif kind == "clear":
                for p in groups[action[1]]:
                    if action[2]:
                        p.grad = None
                    elif p.grad is not None:
                        p.grad.data.zero_()
                has_grad[action[1]] = has_grad[action[1]] and not action[2]
            elif kind == "clip" and has_grad[action[1]]:
                results.append(nn.utils.clip_grad_norm_(groups[action[1]], 0.05))
            elif kind == "draw":
                if action[1]:  # random numbers drawn by an op whose result nothing reads
                    F.dropout(mg.ones(4), 0.5)
                results.append(mg.randn(3))
            elif kind == "decay":
                with mg.no_grad():
                    for p in groups[action[1]]:
                        p.mul_(0.99)
            elif kind == "schedule":
                scheduler.step()
            elif kind == "value":
                with mg.no_grad():
                    results.append(sum(p.sum() for p in groups[action[1]]))
        return tuple(results)

    step = mg.compile(train_step) if compiled else train_step
    rng = np.random.default_rng(1)
    history = []
    for _ in range(CALLS):
        returned = step(mg.tensor(rng.standard_normal((8, 6)).astype(np.float32)))
        params = groups["first"] + groups["rest"]
        history.append(([t.array.copy() for t in returned],
                        [p.array.copy() for p in params] + [b.array.copy() for b in norms["batch"].buffers()],
                        [None if p.grad is None else p.grad.array.copy() for p in params]))
    return history, step


def _same(a, b):
    if a is None or b is None:
        assert a is None and b is None
    else:
        np.testing.assert_array_equal(a, b)


@settings(max_examples=max(100, settings.default.max_examples),
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the fixtures are reset in each example
@given(start=st.sampled_from(STARTS), program=actions)
def test_a_replayed_step_gives_what_the_eager_step_gives_bit_for_bit(start, program, threads, monkeypatch):
    monkeypatch.setattr(parallel, "LATER_MIN", 1)  # every dL/dW a Later, however small
    threads(1)
    eager, _ = _run(program, compiled=False, start=start)
    threads(2)
    eager_on_two, _ = _run(program, compiled=False, start=start)  # backward() hands dL/dW on as Laters too
    captured, step = _run(program, compiled=True, start=start)
    assert step.refused is None and any(isinstance(case, Tape) for case in step.cases.values())
    for other in (eager_on_two, captured):
        for call, (want, got) in enumerate(zip(eager, other), start=1):
            for wanted, gotten in zip(want, got):  # returned values, parameters, gradients
                assert len(wanted) == len(gotten), call
                for a, b in zip(wanted, gotten):
                    _same(a, b)


def test_the_drawn_steps_reach_what_the_schedule_handles():
    # A guard on the strategy itself: it writes passes that add into gradients already there, reads
    # between passes, layers used twice, optimiser steps between passes, and draws after an unread
    # dropout.
    from hypothesis import find
    find(actions, lambda p: sum(a[0] == "pass" for a in p) >= 2 and any(a[0] == "read" for a in p)
         and any(a[0] == "pass" and a[1]["twice"] for a in p) and any(a[0] == "step" for a in p)
         and any(a[0] == "draw" and a[1] for a in p))
