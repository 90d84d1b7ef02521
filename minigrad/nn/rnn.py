"""Recurrent layers, as torch.nn: RNN, LSTM and GRU over whole sequences, and RNNCell, LSTMCell and
GRUCell for one step.

    rnn = nn.LSTM(input_size=10, hidden_size=20, num_layers=2)
    x = mg.randn(5, 3, 10)                  # (steps T, batch N, features), or (N, T, 10) with batch_first
    output, (h_n, c_n) = rnn(x)             # output (5, 3, 20): the last layer's h at every step
                                            # h_n, c_n (2, 3, 20): every layer's state after the last step

Each cell's step is one function below (rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell) with its
equations in the docstring. A layer runs its cell step by step, layer after layer (the reverse
direction of a bidirectional layer runs from the last step back to the first), and everything is
made of minigrad ops (linear, sigmoid, tanh, slicing, cat, stack), so gradients, and gradients of
gradients, come from the ops' own backward.

The parameters have PyTorch's names, shapes and gate order, and PyTorch's initialisation
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), so a PyTorch state_dict loads:

    weight_ih_l{k}  (gates * hidden_size, input size of layer k)    gates: RNN 1, GRU 3 (r, z, n),
    weight_hh_l{k}  (gates * hidden_size, hidden_size)                     LSTM 4 (i, f, g, o)
    bias_ih_l{k}, bias_hh_l{k}  (gates * hidden_size,)
    ..._reverse     the same for the reverse direction of a bidirectional layer
    weight_hr_l{k}  (proj_size, hidden_size)   LSTM with proj_size > 0 only

The layers also take a PackedSequence (minigrad.nn.utils.rnn): each sequence then stops at its own
length, and h_n holds each sequence's state after its own last step.
"""

import math
import numbers
import warnings

import numpy as np

from .. import creation, ops
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNNCellBase",
           "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


# --- one step of each cell -------------------------------------------------------------------
# Shapes: x (N, input_size), h and c (N, hidden_size); W_ih (gates * H, input_size),
# W_hh (gates * H, H), b_ih and b_hh (gates * H,) or None. The gates are stacked in blocks of H rows.

def _gate(gates, k, size):
    """Block k (of `size` columns) of the stacked gate pre-activations (N, gates * size)."""
    return gates[..., k * size:(k + 1) * size]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return ops.tanh(ops.linear(input, w_ih, b_ih) + ops.linear(hx, w_hh, b_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return ops.relu(ops.linear(input, w_ih, b_ih) + ops.linear(hx, w_hh, b_hh))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """One LSTM step, (h, c) -> (h', c'):

        gates = x W_ih^T + b_ih + h W_hh^T + b_hh      four blocks of H columns: i, f, g, o
        i = sigmoid(gates_i)                            input gate
        f = sigmoid(gates_f)                            forget gate
        g = tanh(gates_g)                               candidate cell
        o = sigmoid(gates_o)                            output gate
        c' = f * c + i * g
        h' = o * tanh(c')                               with w_hr (proj_size, H): h' = (o * tanh(c')) W_hr^T
    """
    h, c = hx
    size = c.shape[-1]
    gates = ops.linear(input, w_ih, b_ih) + ops.linear(h, w_hh, b_hh)
    i = ops.sigmoid(_gate(gates, 0, size))
    f = ops.sigmoid(_gate(gates, 1, size))
    g = ops.tanh(_gate(gates, 2, size))
    o = ops.sigmoid(_gate(gates, 3, size))
    c_next = f * c + i * g
    h_next = o * ops.tanh(c_next)
    if w_hr is not None:
        h_next = ops.linear(h_next, w_hr)
    return h_next, c_next


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, h -> h':

        a = x W_ih^T + b_ih,  b = h W_hh^T + b_hh      each three blocks of H columns: r, z, n
        r = sigmoid(a_r + b_r)                          reset gate
        z = sigmoid(a_z + b_z)                          update gate
        n = tanh(a_n + r * b_n)                         candidate; r scales b_n = W_hn h + b_hn (PyTorch's and
                                                        cuDNN's form, not W_hn (r * h) + b_hn)
        h' = (1 - z) * n + z * h
    """
    size = hx.shape[-1]
    a = ops.linear(input, w_ih, b_ih)
    b = ops.linear(hx, w_hh, b_hh)
    r = ops.sigmoid(_gate(a, 0, size) + _gate(b, 0, size))
    z = ops.sigmoid(_gate(a, 1, size) + _gate(b, 1, size))
    n = ops.tanh(_gate(a, 2, size) + r * _gate(b, 2, size))
    return (1 - z) * n + z * hx


def _uniform_init(module):
    """PyTorch's initialisation of every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


# --- whole sequences: RNN, LSTM, GRU ---------------------------------------------------------

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks, and the
    loop over layers, directions and steps. Subclasses give the cell's step (`_step`)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", UserWarning, stacklevel=3)
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                                  ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
            if kind is int and value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size

        gate_size = _GATES[mode] * hidden_size
        output_size = proj_size if proj_size > 0 else hidden_size  # the size of h
        self._all_weights = []  # the parameter names of each (layer, direction), in PyTorch's order
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else output_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, output_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name + suffix, Parameter(creation.zeros(*shape, device=device, dtype=dtype)))
                self._all_weights.append([name + suffix for name in shapes])
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        _uniform_init(self)

    @property
    def all_weights(self):
        """The parameters of each (layer, direction): [[weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Does nothing: PyTorch packs the weights into one buffer for cuDNN; minigrad has no such buffer."""

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # --- running it ------------------------------------------------------------------------

    def _step(self, x, state, weights):
        """One step of the cell: state is (h,), or (h, c) for LSTM; returns the new state."""
        raise NotImplementedError

    def _state_sizes(self):
        """The size of each part of the state: h (and c for LSTM)."""
        return [self.hidden_size]

    def _layer_weights(self, layer, direction):
        """(W_ih, W_hh, b_ih, b_hh), the biases None when bias=False (LSTM with proj_size: and W_hr)."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] + (["weight_hr"] if self.proj_size > 0 else [])
        return tuple(getattr(self, name + suffix, None) for name in names)

    def _run_direction(self, steps, batch_sizes, state, weights, reverse):
        """Run one direction of one layer over `steps` (one (b_t, features) tensor per step t).
        Returns the outputs (one (b_t, H) tensor per step, in time order) and the final state.

        Sequences come longest first, so at step t the first b_t rows of the state are the ones that
        have a step t. The other rows keep their values: going forward, those sequences have ended
        (their state is final); going in reverse, they have not started (their state is still the
        initial one). Without packing, b_t is the whole batch at every step.
        """
        outputs = [None] * len(steps)
        for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
            running = batch_sizes[t]
            new = self._step(steps[t], tuple(part[:running] for part in state), weights)
            outputs[t] = new[0]
            state = tuple(n if running == part.shape[0] else ops.cat([n, part[running:]])
                          for n, part in zip(new, state))
        return outputs, state

    def _run(self, input, hx):
        """The forward pass; hx is None or a tuple of states (h,) or (h, c), each
        (num_layers * num_directions, N, size). Returns (output, tuple of final states)."""
        if isinstance(input, PackedSequence):
            return self._run_packed(input, hx)
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        unbatched = input.ndim == 2
        if hx is not None and any(h.ndim != (2 if unbatched else 3) for h in hx):
            states = "hx" if len(hx) == 1 else "hx and cx"
            dims = f"{hx[0].ndim}-D tensor" if len(hx) == 1 else f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors"
            kind, want = ("unbatched 2-D", 2) if unbatched else ("batched 3-D", 3)
            raise RuntimeError(f"For {kind} input, {states} should also be {want}-D but got {dims}")
        if unbatched:  # one sequence (T, features): a batch of one
            input = input.unsqueeze(1)
            hx = None if hx is None else tuple(h.unsqueeze(1) for h in hx)
        elif self.batch_first:
            input = input.transpose(0, 1)
        self._check_input(input, expected_dims=3)
        steps_total, batch_size, features = input.shape
        if steps_total == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        # The steps one after another, as in a PackedSequence whose sequences all have T steps.
        data, final_states = self._run_layers(input.reshape(steps_total * batch_size, features),
                                              [batch_size] * steps_total, hx)
        output = data.reshape(steps_total, batch_size, data.shape[1])
        if unbatched:
            return output.squeeze(1), tuple(h.squeeze(1) for h in final_states)
        return (output.transpose(0, 1) if self.batch_first else output), final_states

    def _run_packed(self, input, hx):
        """The forward pass of a PackedSequence; hx and the final states are in the caller's order."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        self._check_input(data, expected_dims=2)
        if hx is not None and sorted_indices is not None:
            hx = tuple(ops.index(h, (slice(None), sorted_indices)) for h in hx)
        output, final_states = self._run_layers(data, [int(b) for b in batch_sizes.tolist()], hx)
        if unsorted_indices is not None:
            final_states = tuple(ops.index(h, (slice(None), unsorted_indices)) for h in final_states)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), final_states

    def _run_layers(self, data, batch_sizes, hx):
        """Every layer and direction over packed `data` (sum of batch_sizes, features): rows
        [offsets[t], offsets[t + 1]) hold step t of the first batch_sizes[t] sequences.
        Returns the last layer's output, packed alike, and the final states."""
        layers, batch_size = self.num_layers * self.num_directions, batch_sizes[0]
        if hx is None:
            hx = tuple(creation.zeros(layers, batch_size, size, dtype=data.dtype, device=data.device)
                       for size in self._state_sizes())
        for i, (h, size) in enumerate(zip(hx, self._state_sizes())):
            if h.shape != (layers, batch_size, size):
                which = "" if len(hx) == 1 else f"[{i}]"
                raise RuntimeError(f"Expected hidden{which} size {(layers, batch_size, size)}, got {list(h.shape)}")

        offsets = np.cumsum([0] + batch_sizes)
        layer_input, finals = data, []
        for layer in range(self.num_layers):
            steps = [layer_input[int(offsets[t]):int(offsets[t + 1])] for t in range(len(batch_sizes))]
            directions = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                outputs, final = self._run_direction(steps, batch_sizes, tuple(h[k] for h in hx),
                                                     self._layer_weights(layer, direction), reverse=direction == 1)
                directions.append(ops.cat(outputs))
                finals.append(final)
            layer_input = ops.cat(directions, dim=1) if len(directions) > 1 else directions[0]
            if layer < self.num_layers - 1:  # between layers only, as PyTorch
                layer_input = ops.dropout(layer_input, self.dropout, self.training)
        return layer_input, tuple(ops.stack([final[i] for final in finals]) for i in range(len(hx)))

    def _check_input(self, input, expected_dims):
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to(mg.{weight.dtype}), or convert model: "
                             f"model.to(mg.{input.dtype})")
        if input.ndim != expected_dims:
            raise RuntimeError(f"input must have {expected_dims} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")


class RNN(RNNBase):
    """Elman RNN. For each layer, at each step t:

        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)       (relu instead with nonlinearity='relu')

    x_t is the input for the first layer and the previous layer's h_t for the others (with dropout
    between layers when training, if dropout > 0).

    forward(input, h_0=None) -> (output, h_n)
        input   (T, N, input_size), (N, T, input_size) with batch_first, (T, input_size) unbatched,
                or a PackedSequence
        h_0     (num_layers * num_directions, N, hidden_size) (zeros when None; no N when unbatched)
        output  (T, N, num_directions * hidden_size): the last layer's h_t (both directions side by side)
        h_n     like h_0: every layer's and direction's last h
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _step(self, x, state, weights):
        cell = rnn_tanh_cell if self.mode == "RNN_TANH" else rnn_relu_cell
        return (cell(x, state[0], *weights),)

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory. For each layer, at each step, (h, c) -> (h', c') by `lstm_cell`:

        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x W_ih^T + b_ih + h W_hh^T + b_hh), gate by gate
        c' = f * c + i * g,   h' = o * tanh(c')       (proj_size > 0: h' = (o * tanh(c')) W_hr^T)

    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))
        input         as RNN
        h_0, c_0      (num_layers * num_directions, N, H_out) and (..., N, hidden_size) (zeros when None);
                      H_out = proj_size if proj_size > 0 else hidden_size
        output        (T, N, num_directions * H_out): the last layer's h at every step
        h_n, c_n      like h_0, c_0: every layer's and direction's last state
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def _state_sizes(self):
        return [self.proj_size if self.proj_size > 0 else self.hidden_size, self.hidden_size]

    def _step(self, x, state, weights):
        return lstm_cell(x, state, *weights)

    def forward(self, input, hx=None):
        output, (h_n, c_n) = self._run(input, None if hx is None else tuple(hx))
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit. For each layer, at each step, h -> h' by `gru_cell`:

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),   z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),   h' = (1 - z) * n + z * h

    forward(input, h_0=None) -> (output, h_n), shapes as RNN.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def _step(self, x, state, weights):
        return (gru_cell(x, state[0], *weights),)

    def forward(self, input, hx=None):
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n


# --- one step: RNNCell, LSTMCell, GRUCell ----------------------------------------------------

class RNNCellBase(Module):
    """The parameters of a cell: weight_ih (chunks * H, input_size), weight_hh (chunks * H, H),
    bias_ih and bias_hh (chunks * H,), initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.zeros(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.zeros(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.zeros(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.zeros(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _prepare(self, input, states, state_names):
        """Check dims and sizes as PyTorch; return (input, states) as (N, ...) batches (zeros for a
        missing state) and whether the input was batched."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if states is not None:
            for state, state_name in zip(states, state_names):
                if state.ndim not in (1, 2):
                    raise ValueError(f"{name}: Expected {state_name} to be 1D or 2D, got {state.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            states = None if states is None else tuple(state.unsqueeze(0) for state in states)
        if states is None:
            zeros = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            states = (zeros,) * len(state_names)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for i, state in enumerate(states):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch size "
                                   f"{state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {state.shape[1]}, expected "
                                   f"{self.hidden_size}")
        return input, states, batched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with nonlinearity='relu').

    forward(input, hx=None) -> h'.   input (N, input_size) or (input_size,); hx (N, hidden_size) or
    (hidden_size,), zeros when None; h' like hx.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, None if hx is None else (hx,), ["hidden"])
        if self.nonlinearity == "tanh":
            h = rnn_tanh_cell(input, hx, *self._weights())
        elif self.nonlinearity == "relu":
            h = rnn_relu_cell(input, hx, *self._weights())
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (see lstm_cell): forward(input, (h, c)=None) -> (h', c'), each (N, hidden_size)
    or (hidden_size,) for an unbatched input (input_size,)."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._prepare(input, None if hx is None else tuple(hx), ["hx[0]", "hx[1]"])
        h, c = lstm_cell(input, hx, *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (see gru_cell): forward(input, hx=None) -> h', shapes as RNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._prepare(input, None if hx is None else (hx,), ["hidden"])
        h = gru_cell(input, hx, *self._weights())
        return h if batched else h.squeeze(0)
