"""minigrad/nn/rnn.py and minigrad/nn/utils/rnn.py: RNN, LSTM, GRU, their cells, and packing.

Against PyTorch (float64, the same weights through state_dict): outputs, final states and the
gradients of the input, the initial states and every parameter agree to 1e-10, for each layer with
one and two layers, bidirectional, batch_first, initial states, unbatched input and packed sequences
of unequal lengths. Without PyTorch: gradcheck and gradgradcheck through each cell and layer, the
packing utilities' round trips and error messages, dropout between layers, the initialisation.
"""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import rnn as rnn_utils
from helpers import check_gradients, normal, torch  # noqa: F401  (torch: a fixture)

TOLERANCE = dict(rtol=1e-10, atol=1e-10)
LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {}), ("LSTM", {"proj_size": 2})]
LAYER_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru", "lstm_proj"]


def twins(torch, name, *args, **kwargs):
    """The same layer in both frameworks, float64, minigrad's holding torch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
    return ours, theirs


def parts(result):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)] (a packed output gives its data)."""
    output, state = result
    if hasattr(output, "batch_sizes"):
        output = output.data
    return [output] + (list(state) if isinstance(state, tuple) else [state])


def compare_with_torch(torch, ours, theirs, x, states=(), lengths=None, enforce_sorted=True, batch_first=False):
    """Run both on x (packed first when lengths are given) and the initial states; backward from the
    same random cotangents; compare outputs, final states and the gradients of x, the states and
    every parameter."""
    ours.zero_grad()
    mg_x, torch_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mg_states = [mg.tensor(s, requires_grad=True) for s in states]
    torch_states = [torch.tensor(s, requires_grad=True) for s in states]
    mg_input, torch_input = mg_x, torch_x
    if lengths is not None:
        mg_input = rnn_utils.pack_padded_sequence(mg_x, lengths, batch_first, enforce_sorted)
        torch_input = torch.nn.utils.rnn.pack_padded_sequence(torch_x, lengths, batch_first, enforce_sorted)
    if len(states) == 0:
        mg_hx = torch_hx = None
    elif len(states) == 1:
        mg_hx, torch_hx = mg_states[0], torch_states[0]
    else:
        mg_hx, torch_hx = tuple(mg_states), tuple(torch_states)
    got, expected = parts(ours(mg_input, mg_hx)), parts(theirs(torch_input, torch_hx))
    assert len(got) == len(expected)
    cotangents = [normal(*e.shape, seed=i + 1) for i, e in enumerate(expected)]
    for g, e in zip(got, expected):
        assert g.shape == tuple(e.shape)
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), **TOLERANCE)
    sum(((g * mg.tensor(c)).sum() for g, c in zip(got, cotangents)), mg.tensor(0.0)).backward()
    sum((e * torch.tensor(c)).sum() for e, c in zip(expected, cotangents)).backward()
    np.testing.assert_allclose(mg_x.grad.numpy(), torch_x.grad.numpy(), **TOLERANCE)
    for m, t in zip(mg_states, torch_states):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **TOLERANCE)
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), theirs_params[name].grad.numpy(), **TOLERANCE, err_msg=name)
    return got


def initial_states(name, kwargs, layers, batch, hidden=4):
    """h0 (and c0 for LSTM) as NumPy arrays; batch None for unbatched."""
    lead = (layers,) if batch is None else (layers, batch)
    h_size = kwargs.get("proj_size") or hidden
    states = [normal(*lead, h_size, seed=11)]
    if name == "LSTM":
        states.append(normal(*lead, hidden, seed=12))
    return states


# --- layers against PyTorch ------------------------------------------------------------------

CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(num_layers=2, bidirectional=True),
           dict(batch_first=True, num_layers=2), dict(bias=False)]


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("with_states", [False, True], ids=["zero_state", "initial_state"])
def test_layer_matches_torch(torch, name, kwargs, config, with_states):
    ours, theirs = twins(torch, name, 3, 4, **kwargs, **config)
    steps, batch = 4, 3
    x = normal(batch, steps, 3) if config.get("batch_first") else normal(steps, batch, 3)
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    states = initial_states(name, kwargs, layers, batch) if with_states else ()
    output = compare_with_torch(torch, ours, theirs, x, states)[0]
    width = (kwargs.get("proj_size") or 4) * (2 if config.get("bidirectional") else 1)
    assert output.shape == ((batch, steps, width) if config.get("batch_first") else (steps, batch, width))


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_matches_torch(torch, name, kwargs, batch_first):
    ours, theirs = twins(torch, name, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, **kwargs)
    got = compare_with_torch(torch, ours, theirs, normal(5, 3), initial_states(name, kwargs, 4, None))
    assert got[0].shape == (5, 2 * (kwargs.get("proj_size") or 4))  # (T, D * H): batch_first plays no part
    assert got[1].shape == (4, kwargs.get("proj_size") or 4)


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
@pytest.mark.parametrize("lengths, enforce_sorted",
                         [([5, 3, 3, 1], True), ([2, 5, 1, 4], False), ([3, 3, 5, 3], False)])
@pytest.mark.parametrize("config", [dict(), dict(num_layers=2, bidirectional=True),
                                    dict(batch_first=True, bidirectional=True)],
                         ids=["one", "two_bidir", "batch_first"])
def test_packed_sequence_matches_torch(torch, name, kwargs, lengths, enforce_sorted, config):
    ours, theirs = twins(torch, name, 3, 4, **kwargs, **config)
    batch_first = config.get("batch_first", False)
    x = normal(4, 5, 3) if batch_first else normal(5, 4, 3)
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    compare_with_torch(torch, ours, theirs, x, initial_states(name, kwargs, layers, 4), lengths=lengths,
                       enforce_sorted=enforce_sorted, batch_first=batch_first)


def test_packed_output_and_final_state_follow_each_sequences_length(torch):
    """h_n is each sequence's state after its own last step (in the caller's order), the output comes
    back packed with the input's batch_sizes and indices, and the unpacked output is zero after each end."""
    ours, _ = twins(torch, "GRU", 3, 4)
    x = normal(5, 3, 3)
    lengths = [2, 5, 3]
    packed = rnn_utils.pack_padded_sequence(mg.tensor(x), lengths, enforce_sorted=False)
    output, h_n = ours(packed)
    assert isinstance(output, rnn_utils.PackedSequence)
    assert output.batch_sizes is packed.batch_sizes and output.sorted_indices is packed.sorted_indices
    padded, out_lengths = rnn_utils.pad_packed_sequence(output)
    assert out_lengths.tolist() == lengths
    for b, n in enumerate(lengths):
        alone, h_alone = ours(mg.tensor(x[:n, b]))  # the sequence by itself, unbatched
        np.testing.assert_allclose(padded.numpy()[:n, b], alone.numpy(), **TOLERANCE)
        np.testing.assert_allclose(h_n.numpy()[0, b], h_alone.numpy()[0], **TOLERANCE)
        assert np.all(padded.numpy()[n:, b] == 0)


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
def test_dropout_is_inactive_in_eval_and_matches_torch(torch, name, kwargs):
    ours, theirs = twins(torch, name, 3, 4, num_layers=3, dropout=0.5, **kwargs)
    ours.eval()
    theirs.eval()
    compare_with_torch(torch, ours, theirs, normal(4, 2, 3))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_in_training_changes_outputs_deterministically(name):
    layer = getattr(nn, name)(3, 4, num_layers=2, dropout=0.5).double()
    x = mg.tensor(normal(6, 2, 3))

    def output(seed):
        mg.manual_seed(seed)
        return layer(x)[0].numpy()

    first, again, other = output(1), output(1), output(2)
    layer.eval()
    evaluated = layer(x)[0].numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, evaluated) and not np.allclose(first, other)


def test_dropout_is_only_between_layers():
    """The last layer's output is not dropped: with one layer, training equals eval (and a warning says so)."""
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        layer = nn.GRU(3, 4, dropout=0.9).double()
    x = mg.tensor(normal(6, 2, 3))
    train_out = layer(x)[0].numpy()
    np.testing.assert_array_equal(train_out, layer.eval()(x)[0].numpy())


# --- cells against PyTorch -------------------------------------------------------------------

CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]
CELL_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


@pytest.mark.parametrize("name, kwargs", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_states", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(torch, name, kwargs, batched, with_states, bias):
    theirs = getattr(torch.nn, name)(3, 4, bias=bias, **kwargs).double()
    ours = getattr(nn, name)(3, 4, bias=bias, **kwargs).double()
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
    lead = (2,) if batched else ()
    x = normal(*lead, 3)
    count = 2 if name == "LSTMCell" else 1
    states = [normal(*lead, 4, seed=5 + i) for i in range(count)] if with_states else []
    mg_x, torch_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mg_states = [mg.tensor(s, requires_grad=True) for s in states]
    torch_states = [torch.tensor(s, requires_grad=True) for s in states]
    if not states:
        got, expected = ours(mg_x), theirs(torch_x)
    elif count == 1:
        got, expected = ours(mg_x, mg_states[0]), theirs(torch_x, torch_states[0])
    else:
        got, expected = ours(mg_x, tuple(mg_states)), theirs(torch_x, tuple(torch_states))
    got = list(got) if isinstance(got, tuple) else [got]
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    cotangents = [normal(*e.shape, seed=20 + i) for i, e in enumerate(expected)]
    for g, e in zip(got, expected):
        assert g.shape == tuple(e.shape) == lead + (4,)
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), **TOLERANCE)
    sum(((g * mg.tensor(c)).sum() for g, c in zip(got, cotangents)), mg.tensor(0.0)).backward()
    sum((e * torch.tensor(c)).sum() for e, c in zip(expected, cotangents)).backward()
    np.testing.assert_allclose(mg_x.grad.numpy(), torch_x.grad.numpy(), **TOLERANCE)
    for m, t in zip(mg_states, torch_states):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **TOLERANCE)
    theirs_params = dict(theirs.named_parameters())
    for key, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), theirs_params[key].grad.numpy(), **TOLERANCE)


# --- gradcheck and gradgradcheck -------------------------------------------------------------

def flat(*tensors):
    return mg.cat([t.reshape(-1) for t in tensors])


@pytest.mark.parametrize("name, kwargs", CELLS, ids=CELL_IDS)
def test_cell_gradients(name, kwargs):
    cell = getattr(nn, name)(2, 3, **kwargs).double()
    count = 2 if name == "LSTMCell" else 1

    def func(x, *states):
        out = cell(x, states if count == 2 else states[0])
        return flat(*out) if count == 2 else out

    check_gradients(func, normal(2, 2), *[normal(2, 3, seed=3 + i) for i in range(count)])


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=LAYER_IDS)
def test_layer_gradients(name, kwargs):
    """Through two steps of a two-layer bidirectional layer, in its input and initial states."""
    layer = getattr(nn, name)(2, 3, num_layers=2, bidirectional=True, **kwargs).double()

    def func(x, *states):
        output, final = layer(x, states if len(states) == 2 else states[0])
        return flat(output, *(final if isinstance(final, tuple) else (final,)))

    check_gradients(func, normal(2, 1, 2), *initial_states(name, kwargs, 4, 1, hidden=3))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_packed_layer_gradients(name):
    """Through packing (lengths 3 and 1, unsorted), the layer, and unpacking, in the padded input."""
    layer = getattr(nn, name)(2, 2, bidirectional=True).double()

    def func(x):
        packed = rnn_utils.pack_padded_sequence(x, [1, 3], enforce_sorted=False)
        output, final = layer(packed)
        padded, _ = rnn_utils.pad_packed_sequence(output)
        return flat(padded, *(final if isinstance(final, tuple) else (final,)))

    check_gradients(func, normal(3, 2, 2))


def test_gradients_reach_the_parameters():
    """gradcheck of an LSTM with projections in every one of its parameters (placed in the registry)."""
    layer = nn.LSTM(2, 3, proj_size=2, bidirectional=True).double()
    names = [name for name, _ in layer.named_parameters()]

    def func(x, *params):
        saved = dict(layer._parameters)
        layer._parameters.update(zip(names, params))
        try:
            output, (h_n, c_n) = layer(x)
            return flat(output, h_n, c_n)
        finally:
            layer._parameters.update(saved)

    tensors = [mg.tensor(normal(2, 1, 2), requires_grad=True)]
    tensors += [mg.tensor(p.numpy(), requires_grad=True) for p in layer.parameters()]
    assert mg.gradcheck(func, tensors)


# --- parameters, state_dict, initialisation, repr --------------------------------------------

@pytest.mark.parametrize("name, kwargs", LAYERS + CELLS, ids=LAYER_IDS + ["cell_" + i for i in CELL_IDS])
def test_torch_state_dict_loads(torch, name, kwargs):
    extra = {} if name.endswith("Cell") else dict(num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, name)(3, 5, **kwargs, **extra)
    ours = getattr(nn, name)(3, 5, **kwargs, **extra)
    their_state, our_state = theirs.state_dict(), ours.state_dict()
    assert list(our_state) == list(their_state)  # same names, same order
    assert all(our_state[k].shape == tuple(v.shape) for k, v in their_state.items())
    result = ours.load_state_dict({k: v.numpy() for k, v in their_state.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in their_state.items():
        np.testing.assert_array_equal(getattr(ours, key).numpy(), value.numpy())


def test_parameter_names_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert shapes["weight_ih_l0"] == (20, 3) and shapes["weight_hh_l0_reverse"] == (20, 2)
    assert shapes["weight_ih_l1"] == (20, 4) and shapes["weight_hr_l1_reverse"] == (2, 5)
    assert len(shapes) == 20
    gru = nn.GRU(3, 5, bias=False)
    assert [name for name, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.all_weights[0][1] is gru.weight_hh_l0
    cell = nn.GRUCell(3, 5, bias=False)
    assert cell.bias_ih is None and [name for name, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]


@pytest.mark.parametrize("make", [lambda: nn.LSTM(4, 16, num_layers=2), lambda: nn.GRUCell(4, 16)])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(make):
    layer = make()
    for name, param in layer.named_parameters():
        values = param.numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= 0.25, name
        assert np.abs(values).max() > 0.2 and abs(values.mean()) < 0.1, name  # spread over the interval


def test_repr_matches_torch(torch):
    for make in [lambda m: m.LSTM(2, 3, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True),
                 lambda m: m.RNN(2, 3, nonlinearity="relu"), lambda m: m.LSTM(4, 3, proj_size=2),
                 lambda m: m.GRU(2, 3), lambda m: m.RNNCell(2, 3, nonlinearity="relu"),
                 lambda m: m.LSTMCell(2, 3, bias=False)]:
        assert repr(make(nn)) == repr(make(torch.nn))


def test_positional_arguments_as_torch():
    rnn = nn.RNN(2, 3, 2, "relu", False, True)
    assert (rnn.num_layers, rnn.nonlinearity, rnn.bias, rnn.batch_first) == (2, "relu", False, True)
    lstm = nn.LSTM(2, 3, 1, False, True, 0.0, True)
    assert (lstm.bias, lstm.batch_first, lstm.bidirectional) == (False, True, True)


def test_zero_batch_gives_empty_outputs():
    output, (h_n, c_n) = nn.LSTM(2, 3)(mg.zeros(4, 0, 2))
    assert output.shape == (4, 0, 3) and h_n.shape == (1, 0, 3) and c_n.shape == (1, 0, 3)


# --- errors ---------------------------------------------------------------------------------

def error_of(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001  (the test compares kinds and messages)
        return type(error), str(error)
    raise AssertionError("no error raised")


def layer_calls(m):
    """Mistakes whose error PyTorch and minigrad report alike; m is torch or minigrad."""
    return [
        lambda: m.nn.RNN(2, 3)(m.zeros(4, 3, 5, dtype=m.float64).float()),
        lambda: m.nn.RNN(2, 3)(m.zeros(4, 3, 2), m.zeros(1, 2, 3)),
        lambda: m.nn.LSTM(2, 3)(m.zeros(4, 3, 2), (m.zeros(1, 3, 3), m.zeros(1, 2, 3))),
        lambda: m.nn.LSTM(2, 3)(m.zeros(4, 3, 2), (m.zeros(2, 3, 3), m.zeros(1, 3, 3))),
        lambda: m.nn.GRU(2, 3)(m.zeros(4, 3, 3, 2)),
        lambda: m.nn.GRU(2, 3)(m.zeros(4, 2), m.zeros(1, 1, 3)),
        lambda: m.nn.LSTM(2, 3)(m.zeros(4, 3, 2), (m.zeros(1, 3), m.zeros(1, 3, 3))),
        lambda: m.nn.RNN(2, 3)(m.zeros(0, 3, 2)),
        lambda: m.nn.RNN(2, 3, dropout=1.5),
        lambda: m.nn.RNN(2, 3, nonlinearity="sigmoid"),
        lambda: m.nn.RNN(2, 0),
        lambda: m.nn.GRU(2, 3, num_layers=0),
        lambda: m.nn.LSTM(2, 3, proj_size=3),
        lambda: m.nn.LSTM(2.0, 3),
        lambda: m.nn.RNNCell(2, 3)(m.zeros(3, 4)),
        lambda: m.nn.RNNCell(2, 3)(m.zeros(3, 2), m.zeros(2, 3)),
        lambda: m.nn.GRUCell(2, 3)(m.zeros(3, 2), m.zeros(3, 4)),
        lambda: m.nn.GRUCell(2, 3)(m.zeros(3, 2, 1)),
        lambda: m.nn.LSTMCell(2, 3)(m.zeros(1, 2), (m.zeros(1, 3), m.zeros(2, 3))),
        lambda: m.nn.LSTMCell(2, 3)(m.zeros(1, 2), (m.zeros(1, 3), m.zeros(1, 1, 3))),
        lambda: m.nn.RNNCell(2, 3, nonlinearity="foo")(m.zeros(1, 2)),
    ]


def test_layer_errors_match_torch(torch):
    for ours, theirs in zip(layer_calls(mg), layer_calls(torch)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got, expected = error_of(ours), error_of(theirs)
        assert got[0] is expected[0] and got[1] == expected[1] and "\n" not in got[1]


def test_dtype_mismatch_names_both_dtypes():
    kind, message = error_of(lambda: nn.LSTM(2, 3)(mg.zeros(4, 3, 2, dtype=mg.float64)))
    assert kind is ValueError
    assert message == ("RNN input dtype (float64) does not match weight dtype (float32). Convert input: "
                       "input.to(mg.float32), or convert model: model.to(mg.float64)")


# --- nn.utils.rnn ------------------------------------------------------------------------------

def sequences(lengths, features=(2,), seed=0):
    return [normal(n, *features, seed=seed + i) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, padding_side):
    arrays = sequences([2, 4, 1], features=(2, 3))
    got = rnn_utils.pad_sequence([mg.tensor(a) for a in arrays], batch_first, -1.5, padding_side)
    expected = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_pad_sequence_keeps_the_first_dtype_and_takes_a_tensor(torch):
    got = rnn_utils.pad_sequence([mg.ones(2, 3, dtype=mg.int64), mg.ones(1, 3)])
    assert got.dtype == mg.int64 and got.numpy().tolist() == [[[1] * 3, [1] * 3], [[1] * 3, [0] * 3]]
    rows = normal(2, 3)
    np.testing.assert_array_equal(rnn_utils.pad_sequence(mg.tensor(rows)).numpy(),
                                  torch.nn.utils.rnn.pad_sequence(torch.tensor(rows)).numpy())


@pytest.mark.parametrize("lengths, enforce_sorted", [([4, 2, 2, 1], True), ([2, 4, 1, 2], False), ([1, 1], False)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch(torch, lengths, enforce_sorted, batch_first):
    shape = (len(lengths), max(lengths), 2) if batch_first else (max(lengths), len(lengths), 2)
    x = normal(*shape)
    ours = rnn_utils.pack_padded_sequence(mg.tensor(x), lengths, batch_first, enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist() and ours.batch_sizes.dtype == mg.int64
    for mine, their in [(ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)]:
        assert (mine is None) == (their is None) and (mine is None or mine.tolist() == their.tolist())
    for total_length in [None, max(lengths) + 2]:
        padded, got_lengths = rnn_utils.pad_packed_sequence(ours, batch_first, 7.0, total_length)
        expected, expected_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, 7.0, total_length)
        np.testing.assert_array_equal(padded.numpy(), expected.numpy())
        assert got_lengths.tolist() == expected_lengths.tolist() == lengths


def test_round_trips():
    arrays = sequences([3, 5, 1, 3])
    tensors = [mg.tensor(a) for a in arrays]
    for back in rnn_utils.unpack_sequence(rnn_utils.pack_sequence(tensors, enforce_sorted=False)), \
            rnn_utils.unpad_sequence(rnn_utils.pad_sequence(tensors), [3, 5, 1, 3]), \
            rnn_utils.unpad_sequence(rnn_utils.pad_sequence(tensors, batch_first=True), mg.tensor([3, 5, 1, 3]),
                                     batch_first=True):
        assert len(back) == len(arrays)
        for got, expected in zip(back, arrays):
            np.testing.assert_array_equal(got.numpy(), expected)
    padded = rnn_utils.pad_sequence(tensors, padding_value=9.0)
    again, lengths = rnn_utils.pad_packed_sequence(
        rnn_utils.pack_padded_sequence(padded, [3, 5, 1, 3], enforce_sorted=False), padding_value=9.0)
    np.testing.assert_array_equal(again.numpy(), padded.numpy())
    assert lengths.tolist() == [3, 5, 1, 3]


def test_pack_sequence_as_the_docs_example():
    packed = rnn_utils.pack_sequence([mg.tensor([1, 2, 3]), mg.tensor([4, 5]), mg.tensor([6])])
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3] and packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    unsorted = rnn_utils.pack_sequence([mg.tensor([1, 2]), mg.tensor([3]), mg.tensor([4, 5, 6])],
                                       enforce_sorted=False)
    assert unsorted.data.tolist() == [4, 1, 3, 5, 2, 6] and unsorted.sorted_indices.tolist() == [2, 0, 1]
    assert unsorted.unsorted_indices.tolist() == [1, 2, 0]
    doubled = unsorted.double()
    assert doubled.data.dtype == mg.float64 and doubled.batch_sizes is unsorted.batch_sizes


def test_packing_gradients():
    """pack then pad is a masked copy: its gradient is the cotangent where the sequences are, zero after."""
    check_gradients(lambda x: rnn_utils.pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False).data, normal(3, 3, 2))
    check_gradients(lambda x: rnn_utils.pad_packed_sequence(
        rnn_utils.pack_padded_sequence(x, [3, 1], batch_first=True), batch_first=True, total_length=4)[0],
        normal(2, 3, 2))
    check_gradients(lambda a, b: rnn_utils.pad_sequence([a, b], padding_value=2.0, padding_side="left"),
                    normal(1, 2), normal(3, 2))


def packing_calls(m, utils):
    return [
        lambda: utils.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 3]),
        lambda: utils.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 0]),
        lambda: utils.pack_padded_sequence(m.zeros(4, 3, 2), [4, -1, 2], enforce_sorted=False),
        lambda: utils.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]),
        lambda: utils.pack_padded_sequence(m.zeros(0, 3, 2), [4, 2, 1]),
        lambda: utils.pad_packed_sequence(utils.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 1]), total_length=3),
        lambda: utils.pad_sequence([m.ones(2, 3), m.ones(1, 3)], padding_side="middle"),
        lambda: utils.pad_sequence([]),
        lambda: utils.pad_sequence(5),
    ]


def test_packing_errors_match_torch(torch):
    for ours, theirs in zip(packing_calls(mg, rnn_utils), packing_calls(torch, torch.nn.utils.rnn)):
        got, expected = error_of(ours), error_of(theirs)
        assert got[0] is expected[0] and got[1] == expected[1] and "\n" not in got[1]


@pytest.mark.parametrize("call, kind, message", [
    (lambda: rnn_utils.pack_padded_sequence(mg.zeros(4, 3, 2), [5, 2, 1]), RuntimeError,
     "pack_padded_sequence: a sequence of length 5 does not fit in the 4 steps of the padded input of shape (4, 3, 2)"),
    (lambda: rnn_utils.pack_padded_sequence(mg.zeros(4, 3, 2), [[4, 2, 1]]), RuntimeError,
     "'lengths' argument should be a 1D CPU int64 tensor, but got 2D"),
    (lambda: rnn_utils.pad_sequence([mg.ones(2, 3), mg.ones(1, 4)]), RuntimeError,
     "pad_sequence: sequence 1 has shape (1, 4), but every sequence must have the trailing shape (3,) of sequence 0"),
    (lambda: rnn_utils.pad_sequence([mg.tensor(1.0)]), RuntimeError,
     "pad_sequence: sequence 0 is 0-d; each sequence needs a first dim (its length)"),
])
def test_packing_errors_torch_reports_otherwise(call, kind, message):
    """Where PyTorch reads past the input (lengths too long) or reports in its C++ terms."""
    with pytest.raises(kind) as error:
        call()
    assert str(error.value) == message
