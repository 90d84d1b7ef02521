"""nn.utils.rnn: batches of sequences of different lengths, as torch.nn.utils.rnn.

Three sequences of lengths 3, 2 and 1 (a1 a2 a3, b1 b2, c1) can be held two ways:

    padded (T, B, *):           packed (PackedSequence):
        a1 b1 c1                    data        = a1 b1 c1 a2 b2 a3   (the real steps, step by step)
        a2 b2 0                     batch_sizes = 3 2 1               (how many sequences reach each step)
        a3 0  0

    padded = pad_sequence([a, b, c])                       # (3, 3, *)
    packed = pack_padded_sequence(padded, [3, 2, 1])       # what nn.RNN / LSTM / GRU accept
    output, h_n = nn.GRU(*, hidden)(packed)                # each sequence stops at its own length
    padded_out, lengths = pad_packed_sequence(output)      # back to (T, B, hidden), lengths = [3, 2, 1]

Packing needs the sequences in decreasing order of length. With enforce_sorted=False they are
sorted first, and the PackedSequence remembers the order (sorted_indices) so that unpacking, and the
recurrent layers' h_n, give the sequences back in the caller's order.

All of it is indexing (minigrad's Index and IndexPut ops), so gradients flow through packing and
unpacking to the padded input.
"""

from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import backend, creation, ops
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences of different lengths, the real steps only.

    data:             (sum of lengths, *) the steps, step 0 of every sequence, then step 1 of those
                      that have one, ... (sequences in decreasing order of length)
    batch_sizes:      (longest length,) int64 on the CPU: how many sequences have step t
    sorted_indices:   (B,) int64 or None: position i of the packed batch is the caller's sequence
                      sorted_indices[i] (None when the caller's order was already sorted)
    unsorted_indices: (B,) int64 or None: its inverse, giving the caller's order back

    Make one with pack_padded_sequence or pack_sequence, not by hand.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        if isinstance(batch_sizes, Tensor) and batch_sizes.device != "cpu":
            raise ValueError("batch_sizes should always be on CPU; make a PackedSequence with pack_padded_sequence "
                             "or pack_sequence, not by hand")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """data.to(...); the indices follow data to its device, batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (None if i is None else i.to(data.device)
                                            for i in (self.sorted_indices, self.unsorted_indices))
        return self._replace(data=data, sorted_indices=sorted_indices, unsorted_indices=unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    @property
    def is_cuda(self):
        return self.data.device == "cuda"


def invert_permutation(permutation):
    """The inverse of a permutation: inverse[permutation[i]] = i (None stays None)."""
    if permutation is None:
        return None
    order = backend.to_numpy(permutation.array)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return creation.tensor(inverse, dtype=np.int64, device=permutation.device)


# --- where each packed row lives in the padded batch ------------------------------------------

def _lengths_array(lengths):
    """lengths (a list or a tensor) as a 1-D NumPy int64 array."""
    values = backend.to_numpy(lengths.array) if isinstance(lengths, Tensor) else np.asarray(lengths)
    if values.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {values.ndim}D")
    return values.astype(np.int64)


def _batch_sizes(sorted_lengths):
    """How many sequences have step t, for t = 0 .. longest - 1 (lengths in decreasing order)."""
    return np.array([(sorted_lengths > t).sum() for t in range(sorted_lengths[0])], dtype=np.int64)


def _packed_positions(batch_sizes):
    """For each row of packed data: its step t, and its rank in the sorted batch."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    ranks = np.concatenate([np.arange(b) for b in batch_sizes])
    return steps, ranks


def _check_lengths(input, lengths, batch_dim):
    """PyTorch's checks, in PyTorch's order (plus one for lengths longer than the input)."""
    if input.ndim < 2:
        raise IndexError(f"pack_padded_sequence expects (T, B, *) input, or (B, T, *) with batch_first=True; "
                         f"got shape {input.shape}")
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch_size = input.shape[batch_dim]
    if len(lengths) != batch_size:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch_size})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lengths[:-1] < lengths[1:]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    steps = input.shape[1 - batch_dim]
    if lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a sequence of length {lengths[0]} does not fit in the "
                           f"{steps} steps of the padded input of shape {input.shape}")


# --- the functions users call -----------------------------------------------------------------

def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) whose sequence b has lengths[b]
    real steps. enforce_sorted=True requires lengths in decreasing order; False sorts them."""
    lengths = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        sorted_indices = np.argsort(-lengths, kind="stable")  # stable: ties keep the caller's order, as PyTorch
        lengths = lengths[sorted_indices]
    batch_dim = 0 if batch_first else 1
    _check_lengths(input, lengths, batch_dim)
    batch_sizes = _batch_sizes(lengths)
    steps, ranks = _packed_positions(batch_sizes)
    sequences = ranks if sorted_indices is None else sorted_indices[ranks]
    data = ops.index(input, (sequences, steps) if batch_first else (steps, sequences))
    if sorted_indices is not None:
        sorted_indices = creation.tensor(sorted_indices, dtype=np.int64, device=input.device)
    return PackedSequence(data, creation.tensor(batch_sizes, dtype=np.int64, device="cpu"), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded, lengths), padded (T, B, *) (or (B, T, *)) with
    padding_value after each sequence's end, T = total_length or the longest length; lengths an
    int64 tensor. Both are in the caller's order (before any sorting)."""
    data = sequence.data
    batch_sizes = _lengths_array(sequence.batch_sizes)
    steps_total = len(batch_sizes)
    if total_length is not None:
        if total_length < steps_total:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps_total}")
        steps_total = total_length
    batch_size = int(batch_sizes[0])
    sorted_lengths = np.array([(batch_sizes > rank).sum() for rank in range(batch_size)], dtype=np.int64)
    steps, ranks = _packed_positions(batch_sizes)
    sequences, lengths = ranks, sorted_lengths
    if sequence.sorted_indices is not None:
        sequences = backend.to_numpy(sequence.sorted_indices.array)[ranks]
        lengths = sorted_lengths[backend.to_numpy(sequence.unsorted_indices.array)]
    shape = (batch_size, steps_total) if batch_first else (steps_total, batch_size)
    padded = creation.full(shape + data.shape[1:], padding_value, dtype=data.dtype, device=data.device)
    padded = ops.index_put(padded, (sequences, steps) if batch_first else (steps, sequences), data)
    return padded, creation.tensor(lengths, dtype=np.int64, device="cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into one (T, B, *) (or (B, T, *) with batch_first),
    T = max L_i, padding each with padding_value after its end ('right') or before its start
    ('left'). The result has the first sequence's dtype."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    for i, seq in enumerate(sequences):
        if seq.ndim == 0:
            raise RuntimeError(f"pad_sequence: sequence {i} is 0-d; each sequence needs a first dim (its length)")
        if seq.shape[1:] != first.shape[1:]:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {seq.shape}, but every sequence must have the "
                               f"trailing shape {first.shape[1:]} of sequence 0")
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        if seq.dtype != first.dtype:
            seq = ops.cast(seq, first.dtype)
        missing = longest - seq.shape[0]
        before, after = (missing, 0) if padding_side == "left" else (0, missing)
        padded.append(ops.pad(seq, [0, 0] * (seq.ndim - 1) + [before, after], value=padding_value))
    return ops.stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence (right padding): the list of sequences padded[:lengths[b], b]."""
    lengths = _lengths_array(lengths)
    if batch_first:
        return [padded_sequences[b, :int(n)] for b, n in enumerate(lengths)]
    return [padded_sequences[:int(n), b] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence(pad_sequence(sequences), their lengths): sequences of shapes (L_i, *)."""
    lengths = [seq.shape[0] for seq in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The inverse of pack_sequence: the list of sequences, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
