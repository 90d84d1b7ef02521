"""minigrad/nn/module.py: Module's registries and tree walks, modes, devices and dtypes,
state_dict, printing; Parameter, Sequential and ModuleList.

Also the book's pattern: a model that defines its own train(self, inputs, targets), which
must keep working with eval(), set_training_mode, to(), state_dict() and an optimiser."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from helpers import DEVICES


class Net(nn.Module):
    """Two linear layers, a bare Parameter, a persistent and a non-persistent buffer."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mg.ones(2))
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("seen", mg.zeros(2))
        self.register_buffer("cache", mg.zeros(3), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))
        self.head = Net()

    def forward(self, x):
        return self.head(self.body(x)[:, :3])


def values(module):
    return {name: t.numpy().copy() for name, t in module.state_dict().items()}


# --- registration and tree walks -------------------------------------------------------

def test_named_parameters_registered_by_assignment_in_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    params = list(net.parameters())
    assert params[0] is net.scale and params[1] is net.fc1.weight and params[4] is net.fc2.bias
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert [name for name, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_nested_names_are_dotted():
    model = Nested()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias",
                     "head.scale", "head.fc1.weight", "head.fc1.bias", "head.fc2.weight", "head.fc2.bias"]
    assert [name for name, _ in model.named_buffers()] == [
        "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked", "head.seen", "head.cache"]


def test_shared_parameters_and_modules_are_listed_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encode = nn.Linear(3, 3)
            self.decode = nn.Linear(3, 3)
            self.decode.weight = self.encode.weight
            self.again = self.encode  # the same module under a second name
    tied = Tied()
    assert [name for name, _ in tied.named_parameters()] == ["encode.weight", "encode.bias", "decode.bias"]
    assert len(list(tied.parameters())) == 3
    assert [name for name, _ in tied.named_modules()] == ["", "encode", "decode"]
    assert list(tied.children()) == [tied.encode, tied.decode]  # each once, as PyTorch
    assert [name for name, _ in tied.named_modules(remove_duplicate=False)] == ["", "encode", "decode", "again"]
    assert [name for name, _ in tied.named_parameters(remove_duplicate=False)] == [
        "encode.weight", "encode.bias", "decode.weight", "decode.bias", "again.weight", "again.bias"]
    # the state dict, as PyTorch's, holds a shared module under each of its names
    assert list(tied.state_dict()) == ["encode.weight", "encode.bias", "decode.weight", "decode.bias",
                                       "again.weight", "again.bias"]


def test_children_are_direct_and_modules_walk_depth_first():
    model = Nested()
    assert [type(m).__name__ for m in model.children()] == ["Sequential", "Net"]
    assert [name for name, _ in model.named_children()] == ["body", "head"]
    assert [name for name, _ in model.named_modules()] == [
        "", "body", "body.0", "body.1", "body.2", "head", "head.fc1", "head.act", "head.fc2"]
    assert next(iter(model.modules())) is model


def test_submodules_and_parameters_can_be_replaced_removed_and_deleted():
    net = Net()
    new_weight = nn.Parameter(mg.zeros(4, 3))
    net.fc1.weight = new_weight
    assert net.fc1.weight is new_weight and net.fc1._parameters["weight"] is new_weight
    # a replaced parameter keeps its place: optimiser state dicts index parameters() by position
    assert [name for name, _ in net.named_parameters()][1:3] == ["fc1.weight", "fc1.bias"]
    net.fc1.bias = None  # as PyTorch: None un-registers the parameter but keeps the name
    assert net.fc1.bias is None
    assert "fc1.bias" not in dict(net.named_parameters()) and "fc1.bias" not in net.state_dict()
    net.act = nn.Tanh()
    assert isinstance(net.act, nn.Tanh) and isinstance(list(net.children())[1], nn.Tanh)  # same place
    del net.fc2
    assert "fc2.weight" not in net.state_dict()
    with pytest.raises(AttributeError, match="fc2"):
        net.fc2


def test_assigning_a_plain_value_to_a_parameter_or_submodule_name_raises():
    net = Net()
    with pytest.raises(TypeError, match="'weight'.*Parameter"):
        net.fc1.weight = mg.zeros(4, 3)  # a Tensor, not a Parameter
    with pytest.raises(TypeError, match="'scale'"):
        net.scale = np.ones(2)
    with pytest.raises(TypeError, match="submodule 'fc1'"):
        net.fc1 = mg.zeros(3)
    assert isinstance(net.fc1.weight, nn.Parameter) and isinstance(net.fc1, nn.Linear)


def test_a_plain_tensor_attribute_is_not_a_parameter():
    net = Net()
    net.offset = mg.ones(2)
    assert "offset" not in dict(net.named_parameters()) and "offset" not in net.state_dict()


def test_assigning_before_super_init_explains():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\) in Forgetful.__init__ before assigning submodules"):
        Forgetful()


def test_plain_attributes_before_super_init_are_kept_as_pytorch():
    """Old seq2seq code sets self.hidden_size before calling super().__init__(); PyTorch allows it."""
    class Encoder(nn.Module):
        def __init__(self, hidden_size):
            self.hidden_size = hidden_size
            super().__init__()
            self.fc = nn.Linear(hidden_size, 1)
    encoder = Encoder(3)
    assert encoder.hidden_size == 3 and [name for name, _ in encoder.named_parameters()] == ["fc.weight", "fc.bias"]


def test_register_parameter_buffer_and_module_replace_a_plain_attribute():
    module = nn.Module()
    module.bias, module.stat, module.sub = None, None, 3
    module.register_parameter("bias", nn.Parameter(mg.ones(2)))
    module.register_buffer("stat", mg.zeros(2))
    module.add_module("sub", nn.ReLU())
    assert isinstance(module.bias, nn.Parameter) and module.stat.shape == (2,)
    assert isinstance(module.sub, nn.ReLU)
    assert list(module.state_dict()) == ["bias", "stat"]
    with pytest.raises(TypeError, match="Parameter or None"):
        module.register_parameter("w", mg.ones(2))
    with pytest.raises(TypeError, match="Tensor or None"):
        module.register_buffer("b", np.ones(2))


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(mg.ones(1))


# --- buffers ----------------------------------------------------------------------------

def test_buffers_persistent_and_not():
    net = Net()
    assert [name for name, _ in net.named_buffers()] == ["seen", "cache"]
    assert list(net.state_dict()) == ["scale", "seen", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert "seen" not in dict(net.named_parameters())
    # re-registering makes it persistent again
    net.register_buffer("cache", mg.ones(3))
    assert "cache" in net.state_dict()
    net.register_buffer("cache", mg.ones(3), persistent=False)
    assert "cache" not in net.state_dict()


def test_buffer_assignment_keeps_it_a_buffer():
    net = Net()
    new = mg.tensor([5.0, 6.0])
    net.seen = new
    assert net.seen is new and net.state_dict()["seen"].tolist() == [5.0, 6.0]
    with pytest.raises(TypeError, match="buffer 'seen'"):
        net.seen = [1.0, 2.0]
    net.seen = None
    assert "seen" not in net.state_dict()


# --- modes --------------------------------------------------------------------------------

def test_train_and_eval_propagate_to_every_submodule():
    model = Nested()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())
    nn.set_training_mode(model, True)
    assert all(m.training for m in model.modules())
    model.body.eval()  # only that branch
    assert model.training and model.head.training and not model.body[1].training


def test_eval_changes_what_dropout_and_batchnorm_do():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)).double()
    x = mg.randn(6, 4, dtype=mg.float64)
    model.eval()
    first, second = model(x).numpy(), model(x).numpy()
    np.testing.assert_array_equal(first, second)  # no dropout, running statistics: deterministic
    assert int(model[1].num_batches_tracked.item()) == 0
    model.train()
    model(x)
    assert int(model[1].num_batches_tracked.item()) == 1


# --- gradients ----------------------------------------------------------------------------

def test_zero_grad_set_to_none_and_to_zero():
    net = Net()
    net(mg.randn(5, 3)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and np.abs(g.numpy()).sum() > 0 for g in grads)
    net.zero_grad(set_to_none=False)
    for p, g in zip(net.parameters(), grads):
        assert p.grad is g  # the same tensors, zeroed in place
        assert not p.grad.numpy().any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.zero_grad(set_to_none=False)  # no grads: nothing to zero, nothing created
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_switches_every_parameter():
    net = Net()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


# --- devices and dtypes ------------------------------------------------------------------

def test_double_and_float_convert_parameters_buffers_and_grads_in_place():
    model = Nested()
    model(mg.randn(4, 2)).sum().backward()
    params, buffers = list(model.parameters()), list(model.buffers())
    before = values(model)
    assert model.double() is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(a is b for a, b in zip(model.buffers(), buffers))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert model.head.seen.dtype == np.float64 and model.head.cache.dtype == np.float64
    assert model.body[1].num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    for name, value in values(model).items():
        np.testing.assert_array_equal(value, before[name].astype(value.dtype))
    model.float()
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in params)
    assert model.head.seen.dtype == np.float32
    model.to(mg.float64)
    assert all(p.dtype == np.float64 for p in params)
    model.to(dtype=np.float32)
    assert all(p.dtype == np.float32 for p in params)


@pytest.mark.parametrize("device", DEVICES)
def test_to_device_moves_parameters_and_buffers(device):
    model = Nested()
    params = list(model.parameters())
    before = values(model)
    assert model.to(device) is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.device == device for p in model.parameters())
    assert all(b.device == device for b in model.buffers())
    for name, value in values(model).items():
        np.testing.assert_array_equal(value, before[name])
    out = model(mg.randn(4, 2, device=device))
    assert out.device == device
    model.to(device, dtype=mg.float64)
    assert all(p.device == device and p.dtype == np.float64 for p in model.parameters())
    model.cpu()
    assert all(p.device == "cpu" for p in model.parameters())


# --- state_dict ------------------------------------------------------------------------------

def test_state_dict_shares_memory_and_round_trips():
    source, target = Nested(), Nested()
    source.body[1].running_mean.copy_(mg.tensor([1.0, 2.0, 3.0]))
    state = source.state_dict()
    assert list(state) == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias",
                           "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked",
                           "head.scale", "head.seen", "head.fc1.weight", "head.fc1.bias",
                           "head.fc2.weight", "head.fc2.bias"]
    assert np.shares_memory(state["body.0.weight"].numpy(), source.body[0].weight.numpy())
    assert not state["body.0.weight"].requires_grad
    assert not np.array_equal(target.body[0].weight.numpy(), source.body[0].weight.numpy())
    params = list(target.parameters())
    arrays = [p.array for p in params]
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, value in values(target).items():
        np.testing.assert_array_equal(value, state[name].numpy())
    # copied in place: the same Parameters and arrays, not the source's memory
    assert all(p is q and p.array is a for p, q, a in zip(target.parameters(), params, arrays))
    assert not np.shares_memory(target.body[0].weight.numpy(), source.body[0].weight.numpy())
    assert target.body[1].running_mean.tolist() == [1.0, 2.0, 3.0]


def test_load_state_dict_accepts_arrays_and_casts_to_the_parameter_dtype():
    net = Net().double()
    state = {name: t.numpy().astype(np.float32) + 1 for name, t in net.state_dict().items()}
    net.load_state_dict(state)
    assert net.fc1.weight.dtype == np.float64
    np.testing.assert_array_equal(net.fc1.weight.numpy(), state["fc1.weight"].astype(np.float64))


def test_strict_load_names_missing_and_unexpected_keys():
    net = Net()
    before = values(net)
    state = dict(Net().state_dict())
    del state["fc1.bias"], state["seen"]
    state["fc3.weight"] = mg.zeros(2, 2)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "missing key(s): seen, fc1.bias" in message
    assert "unexpected key(s): fc3.weight" in message
    for name, value in values(net).items():  # nothing was loaded
        np.testing.assert_array_equal(value, before[name])


def test_strict_load_refuses_either_kind_alone():
    state = dict(Net().state_dict())
    with pytest.raises(RuntimeError, match="unexpected key\\(s\\): head.extra") as error:
        Net().load_state_dict({**state, "head.extra": mg.zeros(1)})
    assert "missing" not in str(error.value)
    del state["scale"]
    with pytest.raises(RuntimeError, match="missing key\\(s\\): scale") as error:
        Net().load_state_dict(state)
    assert "unexpected" not in str(error.value)


def test_non_strict_load_returns_the_keys_and_loads_the_rest():
    net, other = Net(), Net()
    state = dict(other.state_dict())
    del state["fc1.bias"]
    state["extra"] = mg.zeros(1)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["fc1.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(net.fc1.weight.numpy(), other.fc1.weight.numpy())
    assert not np.array_equal(net.fc1.bias.numpy(), other.fc1.bias.numpy())


@pytest.mark.parametrize("strict", [True, False])
def test_shape_mismatch_names_the_key_and_both_shapes(strict):
    net = Net()
    state = dict(net.state_dict())
    state["fc2.weight"] = mg.zeros(2, 5)
    with pytest.raises(RuntimeError, match=r"fc2.weight has shape \(2, 5\) in the state_dict but \(2, 4\)"):
        net.load_state_dict(state, strict=strict)


# --- printing ---------------------------------------------------------------------------------

def test_repr_of_a_nested_model_is_pytorch_like():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Flatten(), nn.Linear(16, 1), nn.Sigmoid()),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)\n"
        "  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): LeakyReLU(negative_slope=0.2)\n"
        "  (3): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Linear(in_features=16, out_features=1, bias=True)\n"
        "    (2): Sigmoid()\n"
        "  )\n"
        ")")


def test_repr_of_a_custom_module_lists_its_submodules_by_name():
    assert repr(Net()) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")")


# --- the book's models: their own train(self, inputs, targets) --------------------------------

class BookClassifier(nn.Module):
    """As every model in the book: the training step is a method called train."""

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.02), nn.LayerNorm(8),
                                   nn.Dropout(0.1), nn.Linear(8, 1), nn.Sigmoid())
        self.loss_function = nn.BCELoss()
        self.optimiser = mg.optim.Adam(self.parameters(), lr=0.01)
        self.counter = 0
        self.progress = []

    def forward(self, inputs):
        return self.model(inputs)

    def train(self, inputs, targets):
        outputs = self.forward(inputs)
        loss = self.loss_function(outputs, targets)
        self.counter += 1
        self.progress.append(loss.item())
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()


def test_a_model_with_its_own_train_method_works_with_eval_to_state_dict_and_optimiser():
    model = BookClassifier()
    inputs = mg.randn(16, 4)
    targets = (inputs.sum(dim=1, keepdim=True) > 0).float()
    for _ in range(30):
        model.train(inputs, targets)
    assert model.counter == 30
    assert model.progress[-1] < 0.5 * model.progress[0]  # the book's train() really trains

    assert model.eval() is model  # must not call the book's train() (which needs inputs and targets)
    assert model.counter == 30 and not any(m.training for m in model.modules())
    first, second = model(inputs).numpy(), model(inputs).numpy()
    np.testing.assert_array_equal(first, second)  # dropout is off
    nn.set_training_mode(model, True)
    assert all(m.training for m in model.modules()) and model.counter == 30

    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    model.train(inputs.double(), targets.double())  # the optimiser follows the new arrays
    assert model.counter == 31 and np.isfinite(model.progress[-1])

    copy = BookClassifier().double()
    copy.load_state_dict(model.state_dict())
    model.eval(), copy.eval()
    np.testing.assert_array_equal(copy(inputs.double()).numpy(), model(inputs.double()).numpy())
    assert list(model.state_dict()) == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias",
                                        "model.4.weight", "model.4.bias"]


def test_eval_does_not_call_a_subclass_train():
    class Refuses(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def train(self, inputs, targets):
            raise AssertionError("eval() called the model's own train()")

    model = Refuses()
    model.eval()
    assert not model.training and not model.fc.training
    nn.set_training_mode(model, True)
    assert model.training and model.fc.training


# --- Parameter ----------------------------------------------------------------------------------

def test_parameter():
    data = mg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert np.shares_memory(p.numpy(), data.numpy())  # as torch.nn.Parameter: no copy
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    frozen = nn.Parameter(np.zeros(3), requires_grad=False)
    assert not frozen.requires_grad and frozen.dtype == np.float64
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]


# --- Sequential and ModuleList ----------------------------------------------------------------

def test_sequential_applies_in_order_and_indexes_like_a_list():
    first, second, third = nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)
    seq = nn.Sequential(first, second, third)
    x = mg.randn(5, 3)
    np.testing.assert_allclose(seq(x).numpy(), third(second(first(x))).numpy(), rtol=1e-6)
    assert len(seq) == 3 and list(seq) == [first, second, third]
    assert seq[0] is first and seq[-1] is third and seq[-2] is second
    with pytest.raises(IndexError):
        seq[3]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [first, second]
    assert seq[::2][1] is third and list(seq[1:]) == [second, third]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(seq[1:].state_dict()) == ["2.weight", "2.bias"]  # as PyTorch: slices keep the names


def test_sequential_append_registers():
    seq = nn.Sequential(nn.Linear(2, 2))
    last = nn.Linear(2, 1)
    assert seq.append(last) is seq
    assert len(seq) == 2 and seq[-1] is last
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert seq(mg.randn(3, 2)).shape == (3, 1)


def test_sequential_from_an_ordered_dict_keeps_the_names():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU()), ("out", nn.Linear(3, 1))]))
    assert list(seq.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert seq.hidden is seq[0] and seq.out is seq[-1]
    assert list(seq[1:].state_dict()) == ["out.weight", "out.bias"]
    assert repr(seq).splitlines()[1] == "  (hidden): Linear(in_features=2, out_features=3, bias=True)"


def test_module_list_registers_its_modules():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    tower = Tower()
    assert len(tower.layers) == 3 and tower.layers[-1] is list(tower.layers)[2]
    assert [name for name, _ in tower.named_parameters()] == [
        f"layers.{i}.{kind}" for i in range(3) for kind in ("weight", "bias")]
    tower.layers.append(nn.Linear(2, 2))
    tower.layers.extend([nn.Linear(2, 2)])
    assert len(list(tower.parameters())) == 10 and len(tower.layers) == 5
    part = tower.layers[1:3]
    assert isinstance(part, nn.ModuleList) and list(part) == list(tower.layers)[1:3]
    assert tower(mg.randn(4, 2)).shape == (4, 2)
    tower.eval()
    assert not tower.layers[4].training


@pytest.mark.parametrize("strict", [True, False])
def test_a_failed_load_changes_nothing(strict):
    """Formerly scale, fc1.* were overwritten before fc2.weight's wrong shape raised."""
    net, other = Net(), Net()
    before = values(net)
    state = dict(other.state_dict())
    state["fc2.weight"] = mg.zeros(2, 5)
    state["fc2.bias"] = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"fc2.weight has shape \(2, 5\) .*; fc2.bias has shape \(3,\) in the "
                                         r"state_dict but \(2,\) in Net. Nothing was loaded"):
        net.load_state_dict(state, strict=strict)
    for name, value in values(net).items():
        np.testing.assert_array_equal(value, before[name])


def test_values_that_are_not_numbers_are_refused_before_anything_is_written():
    net = Net()
    before = values(net)
    for bad, kind in [([1.0, 2.0], "list"), (np.array(["a", "b"]), "dtype <U1"), (None, "NoneType"),
                      (np.array([1 + 1j, 2]), "dtype complex128")]:
        state = dict(Net().state_dict())
        state["seen"] = bad
        with pytest.raises(RuntimeError, match=rf"load_state_dict: seen is a {kind}, not numbers that convert to "
                                            rf"float32. Nothing was loaded"):
            net.load_state_dict(state)
        for name, value in values(net).items():
            np.testing.assert_array_equal(value, before[name])
    state = dict(Net().state_dict())
    state["seen"] = np.array([True, False])  # bool and int convert, as PyTorch's copy_
    net.load_state_dict(state)
    assert net.seen.tolist() == [1.0, 0.0]


def test_load_state_dict_needs_a_dict():
    net = Net()
    with pytest.raises(TypeError, match=r"load_state_dict expects a dict of name -> Tensor .*got a list"):
        net.load_state_dict(list(net.state_dict().values()))
    with pytest.raises(TypeError, match="got a list"):
        net.load_state_dict(list(net.state_dict().items()))


# --- containers, hooks and the Module methods PyTorch code calls, against PyTorch --------------------

def keys_and_shapes(module):
    return [(key, tuple(value.shape)) for key, value in module.state_dict().items()]


def linears(lib, *sizes):
    return [lib.nn.Linear(n, n + 1) for n in sizes]


def test_module_list_edits_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (mg, torch):
        layers = lib.nn.ModuleList(linears(lib, 1, 2))
        layers.insert(1, lib.nn.Linear(3, 4))
        layers.insert(3, lib.nn.Linear(4, 5))
        layers.extend(linears(lib, 5))
        layers += linears(lib, 6)
        layers[0] = lib.nn.Linear(7, 8)
        layers[-1] = lib.nn.Linear(8, 9)
        del layers[1]
        popped = layers.pop(1)
        part = layers[1:]
        combined = layers + lib.nn.ModuleList(linears(lib, 9))
        del layers[0:2]
        results.append((keys_and_shapes(layers), keys_and_shapes(part), keys_and_shapes(combined),
                        tuple(popped.weight.shape), type(part).__name__, len(layers)))
    assert results[0] == results[1]
    layers = nn.ModuleList(linears(mg, 1, 2))
    layers.insert(-1, nn.ReLU())  # as list.insert (PyTorch's ModuleList fails on a negative index)
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="^index 3 is out of range$"):
        layers[3]
    with pytest.raises(TypeError, match="is not a Module subclass"):
        layers.append(3)
    with pytest.raises(TypeError, match="should be called with an iterable"):
        layers.extend(3)


def test_sequential_edits_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (mg, torch):
        named = lib.nn.Sequential(OrderedDict([("a", lib.nn.Linear(1, 2)), ("b", lib.nn.Linear(2, 3)),
                                               ("c", lib.nn.Linear(3, 4))]))
        plain = lib.nn.Sequential(*linears(lib, 1, 2))
        plain.insert(0, lib.nn.Linear(5, 1))
        plain.extend(linears(lib, 3))
        plain.append(lib.nn.Linear(4, 4))
        plain[1] = lib.nn.Linear(1, 2)
        popped = plain.pop(-1)
        both = plain + lib.nn.Sequential(lib.nn.Linear(4, 1))
        named[1] = lib.nn.Linear(2, 3)
        first = keys_and_shapes(named)
        del named[0]
        results.append((keys_and_shapes(plain), keys_and_shapes(both), first, keys_and_shapes(named),
                        keys_and_shapes(named[1:]), tuple(popped.weight.shape), type(plain[-1:]).__name__))
    assert results[0] == results[1]
    x = np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        nn.Sequential() + [nn.ReLU()]
    with pytest.raises(IndexError, match="index 2 is out of range"):
        nn.Sequential(nn.ReLU(), nn.ReLU())[2]
    model = nn.Sequential(nn.Linear(5, 3)).insert(1, nn.ReLU())
    assert model(mg.tensor(x)).shape == (2, 3) and isinstance(model[1], nn.ReLU)


def test_module_dict_parameter_list_and_parameter_dict_register_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (mg, torch):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.heads = lib.nn.ModuleDict({"b": lib.nn.Linear(2, 1), "a": lib.nn.Linear(2, 3)})
                self.heads.update([("c", lib.nn.Linear(2, 2))])
                self.heads["d"] = lib.nn.Linear(1, 1)
                del self.heads["b"]
                self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.zeros(3)])
                self.scales.append(lib.ones(1, 2))
                self.scales += [lib.nn.Parameter(lib.ones(4))]
                self.extra = lib.nn.ParameterDict({"w": lib.ones(2, 2)})
                self.extra.update({"v": lib.nn.Parameter(lib.zeros(1))})
                self.extra["u"] = lib.ones(3)
                self.extra.pop("w")

        net = Net()
        results.append((keys_and_shapes(net), [name for name, _ in net.named_parameters()],
                        list(net.heads.keys()), "a" in net.heads, len(net.heads), len(net.scales), len(net.extra),
                        list(net.extra), [type(p).__name__ for p in net.scales], "v" in net.extra,
                        tuple(net.scales[-1].shape), [tuple(p.shape) for p in net.scales[1:3]]))
    assert results[0] == results[1]
    scales = nn.ParameterList([mg.ones(2)])
    assert isinstance(scales[0], nn.Parameter) and scales[0].requires_grad
    optimizer = mg.optim.SGD(nn.ModuleList([nn.Linear(2, 2)]).parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 2
    assert repr(nn.ParameterList([nn.Parameter(mg.ones(2, 3, dtype=mg.float32)), mg.ones(1, dtype=mg.float64)])) == (
        "ParameterList(\n  (0): Parameter containing: [float32 of size 2x3]\n"
        "  (1): Parameter containing: [float64 of size 1]\n)")


def test_forward_hooks_see_and_may_replace_inputs_and_outputs():
    model = nn.Linear(2, 2)
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: calls.append(("pre", m)) or (args[0] * 0,))
    post = model.register_forward_hook(lambda m, args, out: calls.append(("post", float(args[0].sum()))) or out + 1)
    first = model.register_forward_hook(lambda m, args, out: calls.append(("first", None)), prepend=True)
    out = model(mg.ones(1, 2))
    np.testing.assert_allclose(out.numpy(), model.bias.numpy()[None] + 1, rtol=1e-6)  # zero input, +1 after
    assert calls == [("pre", model), ("first", None), ("post", 0.0)]
    for handle in (pre, post, first):
        handle.remove()
    np.testing.assert_allclose(model(mg.ones(1, 2)).numpy(), (model.weight.sum(1) + model.bias).numpy()[None],
                               rtol=1e-6)
    with model.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True):
        with model.register_forward_hook(lambda m, args, kwargs, out: out * 0 + float(args[0].sum()),
                                         with_kwargs=True):
            assert model(mg.ones(1, 2)).numpy().tolist() == [[4.0, 4.0]]
    assert not model._forward_pre_hooks and not model._forward_hooks
    model.register_forward_pre_hook(lambda m, args: mg.zeros(1, 2))  # one value: the one argument
    np.testing.assert_allclose(model(mg.ones(1, 2)).numpy(), model.bias.numpy()[None], rtol=1e-6)


def test_get_submodule_parameter_and_buffer_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        model = lib.nn.Sequential(OrderedDict([("body", lib.nn.Sequential(lib.nn.Linear(2, 3),
                                                                          lib.nn.BatchNorm1d(3)))]))
        assert model.get_submodule("") is model and model.get_submodule("body.1") is model.body[1]
        assert model.get_parameter("body.0.weight") is model.body[0].weight
        assert model.get_buffer("body.1.running_mean") is model.body[1].running_mean
        for call, message in [(lambda: model.get_submodule("body.5"), "Sequential has no attribute `5`"),
                              (lambda: model.get_submodule("body.0.weight"), "`weight` is not an nn.Module"),
                              (lambda: model.get_parameter("body.0.x"), "Linear has no attribute `x`"),
                              (lambda: model.get_parameter("body.1.running_mean"), "`running_mean` is not an "
                                                                                  "nn.Parameter")]:
            with pytest.raises(AttributeError, match=message):
                call()


def test_named_modules_memo_prefix_and_parameters_recurse():
    model = nn.Sequential(nn.Linear(1, 2), nn.Sequential(nn.Linear(2, 2)))
    inner = model[1]
    assert [name for name, _ in model.named_modules(prefix="net")] == ["net", "net.0", "net.1", "net.1.0"]
    assert [name for name, _ in model.named_modules(memo={inner})] == ["", "0"]
    assert list(model.parameters(recurse=False)) == []
    assert [name for name, _ in model[0].named_parameters(prefix="first")] == ["first.weight", "first.bias"]


def test_state_dict_keywords_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (mg, torch):
        model = lib.nn.Sequential(lib.nn.Linear(1, 2), lib.nn.BatchNorm1d(2))
        destination = OrderedDict(first=1)
        state = model.state_dict(destination=destination, prefix="net.")
        kept = model.state_dict(keep_vars=True)
        results.append((list(state), state is destination, kept["0.weight"] is model[0].weight,
                        state["net.0.weight"] is model[0].weight))
        result = model.load_state_dict({k: v for k, v in model.state_dict().items() if k != "1.bias"}, strict=False)
        results.append((result.missing_keys, result.unexpected_keys, type(result).__name__))
    assert results[0] == results[2] and results[1] == results[3]


def test_half_type_share_memory_dir_and_training():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.share_memory() is model
    assert model.half()[0].weight.dtype == np.float16 and model[1].num_batches_tracked.dtype == np.int64
    model.type(mg.float64)
    assert model[0].weight.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.float64  # all, as PyTorch
    assert {"weight", "bias", "forward", "training"} <= set(dir(model[0]))
    assert "0" not in dir(model) and "0" in model._modules
    assert model.training and not model.eval()[1].training


def test_repr_puts_a_one_line_extra_repr_with_children_on_its_own_line_as_pytorch():
    torch = pytest.importorskip("torch")
    texts = []
    for lib in (mg, torch):
        class Block(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(1, 1)

            def extra_repr(self):
                return "scale=2"

        texts.append(repr(Block()))
    assert texts[0] == texts[1]


# --- DataParallel on one device --------------------------------------------------------------------------

def test_data_parallel_passes_through_with_pytorchs_state_dict_keys():
    torch = pytest.importorskip("torch")
    ours = nn.DataParallel(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)))
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict())[0] == "module.0.weight" and isinstance(ours.module, nn.Sequential)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    assert repr(ours).startswith("DataParallel(\n  (module): Sequential(")
    assert ours.device_ids == [] and ours.output_device is None and ours.dim == 0
    assert mg.nn.parallel.DataParallel is nn.DataParallel


def test_data_parallel_over_several_devices_warns_and_runs_on_one():
    with pytest.warns(UserWarning, match="runs a model on one device"):
        model = nn.DataParallel(nn.Linear(2, 1), device_ids=[0, 1])
    assert model.output_device == 0
    assert model(mg.ones(3, 2)).shape == (3, 1)
    with pytest.raises(TypeError, match="wraps a Module"):
        nn.DataParallel(lambda x: x)


def test_a_load_that_matched_everything_says_so_as_pytorch():
    model = nn.Linear(2, 1)
    result = model.load_state_dict(model.state_dict())
    assert repr(result) == "<All keys matched successfully>" and result == ([], [])
    assert repr(model.load_state_dict({}, strict=False)) == ("_IncompatibleKeys(missing_keys=['weight', 'bias'], "
                                                             "unexpected_keys=[])")  # as PyTorch


def test_backward_hooks_are_refused_naming_the_differences_page():
    for register in (nn.Linear(1, 1).register_full_backward_hook, nn.Linear(1, 1).register_backward_hook):
        with pytest.raises(NotImplementedError, match="not supported in minigrad.*docs/differences.md"):
            register(lambda module, grad_input, grad_output: None)
