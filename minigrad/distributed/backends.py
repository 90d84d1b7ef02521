"""The transports under minigrad.distributed: MPI through mpi4py (CPU arrays), NCCL through CuPy (GPU arrays).

minigrad moves no bytes itself: each collective is one call into an existing engine.

    MPIGroup    COMM_WORLD of mpi4py. Every collective is started non-blocking (Iallreduce, Ibcast,
                Iallgather, Ibarrier) and then waited for with a deadline, so that a rank that never
                arrives ends the run with an error instead of a hang. GPU arrays go through the host.
    NCCLGroup   a cupy.cuda.nccl.NcclCommunicator, one GPU per rank (rank % number of GPUs). NCCL has
                no way to meet its peers, so MPI starts it: rank 0 makes the NCCL id and broadcasts it
                over MPI, as ChainerMN did. Written against CuPy's NCCL API; not run on this project's
                CI machines, which have no GPU.

Both take arrays (NumPy or CuPy) and change them in place; minigrad.distributed wraps them for Tensors.
"""

import os
import sys
import time
import traceback

import numpy as np

from .. import backend

INSTALL_MPI = 'pip install -e ".[distributed]"'


def _missing(what, error):
    return RuntimeError(f"minigrad.distributed backend='mpi' needs {what} ({type(error).__name__}: {error}); "
                        f"install it with: {INSTALL_MPI}")


def import_mpi():
    """mpi4py's MPI module, or a one-line RuntimeError that says what to install."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise _missing("mpi4py and an MPI library", error) from None
    except RuntimeError as error:  # mpi4py is there, its MPI library is not
        raise _missing("an MPI library for mpi4py", error) from None
    return MPI


class Work:
    """What an async_op=True collective returns, as PyTorch's Work: wait() blocks until it is done
    (and writes the result into the tensor); is_completed() says whether it is."""

    def __init__(self, wait, test=lambda: True):
        self._wait, self._test, self._done = wait, test, False

    def wait(self, timeout=None):
        if not self._done:
            self._wait()
            self._done = True
        return True

    def is_completed(self):
        return self._done or self._test()


class MPIGroup:
    """All processes of the MPI job (MPI.COMM_WORLD)."""

    name = "mpi"

    def __init__(self, timeout):
        MPI = import_mpi()
        self.MPI = MPI
        if not MPI.Is_initialized():
            MPI.Init()
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout = timeout  # seconds
        self.ops = {"SUM": MPI.SUM, "AVG": MPI.SUM, "MAX": MPI.MAX, "MIN": MPI.MIN, "PRODUCT": MPI.PROD}
        if self.size > 1:
            abort_on_uncaught_exception(self.comm)

    # Each collective: a host buffer, a non-blocking MPI call, and a `finish` that writes the result back.

    def all_reduce(self, array, op):
        buffer, write_back = _host_buffer(array)
        request = self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.ops[op])

        def finish():
            self.wait(request, "all_reduce")
            if op == "AVG":
                np.true_divide(buffer, self.size, out=buffer, casting="unsafe")
            write_back()
        return Work(finish, request.Test)

    def broadcast(self, array, src):
        buffer, write_back = _host_buffer(array)
        request = self.comm.Ibcast(buffer, root=src)

        def finish():
            self.wait(request, "broadcast")
            write_back()
        return Work(finish, request.Test)

    def all_gather(self, arrays, array):
        send = np.ascontiguousarray(_to_host(array))
        receive = np.empty((self.size,) + send.shape, dtype=send.dtype)
        request = self.comm.Iallgather(send, receive)

        def finish():
            self.wait(request, "all_gather")
            for out, part in zip(arrays, receive):
                out[...] = _like(out, part)
        return Work(finish, request.Test)

    def barrier(self):
        request = self.comm.Ibarrier()
        return Work(lambda: self.wait(request, "barrier"), request.Test)

    def wait(self, request, what):
        """Wait for `request`, sleeping between checks (so that ranks sharing a core let each other
        run), and raise a RuntimeError past the deadline: a rank that died or stopped never arrives."""
        deadline = time.monotonic() + self.timeout
        pause = 0.0
        while not request.Test():
            if time.monotonic() > deadline:
                raise RuntimeError(f"minigrad.distributed: {what} on rank {self.rank} of {self.size} waited more "
                                   f"than {self.timeout:g} s for the other ranks (one of them died or hangs)")
            time.sleep(pause)
            pause = min(2 * pause + 1e-5, 1e-3)

    def close(self):
        pass  # MPI itself is finalised by mpi4py when Python exits


def abort_on_uncaught_exception(comm):
    """An uncaught exception on one rank aborts the whole job (MPI_Abort), as `python -m mpi4py` does:
    else the other ranks would wait for it in their next collective. The traceback is written first,
    straight to the file descriptor, and given a moment to reach the launcher before the abort."""
    previous = sys.excepthook

    def hook(kind, value, trace):
        if previous is not sys.__excepthook__:
            previous(kind, value, trace)
        text = "".join(traceback.format_exception(kind, value, trace))
        text += (f"minigrad.distributed: rank {comm.Get_rank()} of {comm.Get_size()} failed "
                 f"({kind.__name__}); aborting the job\n")
        os.write(2, text.encode())
        time.sleep(0.2)
        comm.Abort(1)
    sys.excepthook = hook


def _to_host(array):
    return backend.to_numpy(array)


def _like(out, part):
    return backend.to_device(part, backend.device_of(out))


def _host_buffer(array):
    """A contiguous NumPy buffer holding `array`, and a function that copies it back into `array`
    (nothing to copy when the buffer is the array itself)."""
    host = _to_host(array)
    if host is array and array.flags.c_contiguous and array.flags.writeable:
        return array, lambda: None
    buffer = np.ascontiguousarray(host).copy() if host is array else np.ascontiguousarray(host)

    def write_back():
        array[...] = _like(array, buffer)
    return buffer, write_back


class NCCLGroup:
    """One GPU per rank, collectives through NCCL (cupy.cuda.nccl); started over MPI."""

    name = "nccl"

    def __init__(self, timeout):
        nccl = backend.nccl()
        if nccl is None:
            raise RuntimeError("minigrad.distributed backend='nccl' needs CuPy with NCCL; install it with: "
                               "pip install -e \".[gpu,distributed]\"")
        cupy = backend.cupy
        self.cupy, self.nccl = cupy, nccl
        self.mpi = MPIGroup(timeout)  # to meet the peers
        self.rank, self.size = self.mpi.rank, self.mpi.size
        cupy.cuda.Device(self.rank % cupy.cuda.runtime.getDeviceCount()).use()
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = self.mpi.comm.bcast(unique_id, root=0)
        self.comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self.ops = {"SUM": nccl.NCCL_SUM, "AVG": nccl.NCCL_SUM, "MAX": nccl.NCCL_MAX, "MIN": nccl.NCCL_MIN,
                    "PRODUCT": nccl.NCCL_PROD}
        self.dtypes = {np.dtype(name): getattr(nccl, constant) for name, constant in [
            ("float16", "NCCL_FLOAT16"), ("float32", "NCCL_FLOAT32"), ("float64", "NCCL_FLOAT64"),
            ("int8", "NCCL_INT8"), ("uint8", "NCCL_UINT8"), ("int32", "NCCL_INT32"), ("int64", "NCCL_INT64")]}

    def _buffer(self, array):
        if not isinstance(array, self.cupy.ndarray):
            raise ValueError(f"backend='nccl' works on GPU tensors, got a CPU tensor of shape {array.shape}; "
                             f"move it with .cuda() or use backend='mpi'")
        if array.dtype not in self.dtypes:
            raise TypeError(f"backend='nccl' has no reduction for dtype {array.dtype}")
        if array.flags.c_contiguous:
            return array, lambda: None
        buffer = self.cupy.ascontiguousarray(array)

        def write_back():
            array[...] = buffer
        return buffer, write_back

    def _stream(self):
        return self.cupy.cuda.get_current_stream()

    def all_reduce(self, array, op):
        buffer, write_back = self._buffer(array)
        stream = self._stream()
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, self.dtypes[buffer.dtype],
                            self.ops[op], stream.ptr)

        def finish():
            if op == "AVG":
                buffer[...] = buffer / self.size
            write_back()
            stream.synchronize()
        return Work(finish, lambda: stream.done)  # queued on the stream: done once the stream has run it

    def broadcast(self, array, src):
        buffer, write_back = self._buffer(array)
        stream = self._stream()
        self.comm.bcast(buffer.data.ptr, buffer.size, self.dtypes[buffer.dtype], src, stream.ptr)

        def finish():
            write_back()
            stream.synchronize()
        return Work(finish)

    def all_gather(self, arrays, array):
        send, _ = self._buffer(array)
        receive = self.cupy.empty((self.size,) + send.shape, dtype=send.dtype)
        stream = self._stream()
        self.comm.allGather(send.data.ptr, receive.data.ptr, send.size, self.dtypes[send.dtype], stream.ptr)

        def finish():
            for out, part in zip(arrays, receive):
                out[...] = part
            stream.synchronize()
        return Work(finish)

    def barrier(self):
        token = self.cupy.zeros(1, dtype=np.float32)
        return self.all_reduce(token, "SUM")

    def close(self):
        self.comm.destroy()
