"""cupy.cuda of the stand-in: one pretend GPU, a memory pool that counts the bytes of live arrays."""

import weakref


class Device:
    """cupy.cuda.Device: GPU 0 is the only one."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"CUDA device {self.id} does not exist: the CuPy stand-in has GPU 0 only")

    def use(self):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Runtime:
    """cupy.cuda.runtime: the questions minigrad asks."""

    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDevice():
        return 0

    @staticmethod
    def getDeviceProperties(index):
        Device(index)
        return {"name": b"CuPy stand-in (NumPy)", "totalGlobalMem": 16 * 2**30}


runtime = _Runtime()


class MemoryPool:
    """Counts the bytes of the device arrays alive now that own their memory (used_bytes) and the
    most held at once (total_bytes: CuPy's pool keeps freed blocks until free_all_blocks)."""

    def __init__(self):
        self._used = self._peak = 0
        self._alive = {}  # id -> weak reference (a weak reference hashes as its array: unhashable)

    def _track(self, array):
        if array._a.base is not None:
            return
        size = array._a.nbytes
        self._used += size
        self._peak = max(self._peak, self._used)

        def freed(reference, size=size):
            self._alive.pop(id(reference), None)
            self._used -= size
        reference = weakref.ref(array, freed)
        self._alive[id(reference)] = reference

    def used_bytes(self):
        return self._used

    def total_bytes(self):
        return self._peak

    def free_bytes(self):
        return self._peak - self._used

    def free_all_blocks(self, stream=None):
        self._peak = self._used

    def n_free_blocks(self):
        return 0


class PinnedMemoryPool:
    def free_all_blocks(self):
        pass

    def n_free_blocks(self):
        return 0


_memory_pool, _pinned_memory_pool = MemoryPool(), PinnedMemoryPool()


def get_default_memory_pool():
    return _memory_pool


def get_default_pinned_memory_pool():
    return _pinned_memory_pool


def is_available():
    return True


def get_device_id():
    return 0
