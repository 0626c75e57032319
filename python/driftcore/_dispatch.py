"""Where a computation runs: one small place that looks at the arrays.

numpy (or anything numpy can read) runs the C++ kernels; an object with
``__cuda_array_interface__`` (cupy) runs the CUDA kernels on cupy's current stream.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import _core

_DEVICES = ("auto", "cpu", "gpu")
_NUMERIC_KINDS = "fiu"


def is_device_array(x: Any) -> bool:
    """True for GPU arrays (objects exposing ``__cuda_array_interface__``)."""
    return hasattr(x, "__cuda_array_interface__")


@functools.lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when driftcore was built with CUDA and a CUDA device can be used.

    Examples
    --------
    >>> import driftcore
    >>> isinstance(driftcore.gpu_available(), bool)
    True
    """
    return bool(_core.cuda_compiled() and _core.cuda_device_count() > 0)


def resolve_device(device: str, *arrays: Any) -> str:
    """Return "cpu" or "gpu" for ``arrays`` under the user's ``device`` choice."""
    if device not in _DEVICES:
        raise ValueError(f"device must be one of {_DEVICES}, got {device!r}")
    on_gpu = [is_device_array(a) for a in arrays if a is not None]
    if any(on_gpu) and not all(on_gpu):
        raise TypeError(
            "mixed inputs: some arrays are on the GPU (cupy) and some on the host; "
            "move them to one device first"
        )
    gpu_input = bool(on_gpu) and all(on_gpu)
    if device == "cpu":
        return "cpu"
    if device == "gpu" or gpu_input:
        if not _core.cuda_compiled():
            raise RuntimeError(
                "device='gpu' but driftcore was built without CUDA: reinstall with nvcc "
                "on PATH (DRIFTCORE_CUDA=ON pip install .)"
            )
        if not gpu_available():
            raise RuntimeError("device='gpu' but no usable CUDA device was found")
        return "gpu"
    return "cpu"


def resolve_threads(threads: int | None) -> int:
    """``None`` means all cores (0 for the C++ side); otherwise a positive count."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if not 1 <= threads < 2**31:  # the C++ side takes an int
        raise ValueError(f"threads must be in [1, 2**31), got {threads}")
    return int(threads)


def host_1d(x: Any, name: str = "values", *, numeric: bool = True) -> np.ndarray:
    """Validate and return a contiguous 1-D numpy array of a supported numeric dtype.

    Non-contiguous input is copied; float16 is widened to float32; bool, complex,
    object and string arrays are refused with a TypeError naming ``name``.
    """
    if is_device_array(x):
        raise TypeError(f"{name} is a GPU array; pass device='gpu' or a numpy array")
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if numeric:
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{name} must be a float or integer array, got dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    # Aligned too: np.frombuffer at an odd offset gives a misaligned view, which the
    # C++ kernels must not read through typed pointers.
    return np.require(arr, requirements=["C", "A"])


def device_1d(x: Any, name: str = "values") -> tuple[int, int, str, Any]:
    """Return (pointer, length, typestr, owner) of a 1-D contiguous GPU array."""
    import cupy as cp

    arr = cp.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.dtype == cp.float16:
        arr = arr.astype(cp.float32)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{name} must be a float or integer array, got dtype {arr.dtype}")
    arr = cp.ascontiguousarray(arr)
    typestr = arr.dtype.str[1:]
    return int(arr.data.ptr), int(arr.size), typestr, arr


def current_stream() -> int:
    """cupy's current stream as an integer handle."""
    import cupy as cp

    return int(cp.cuda.get_current_stream().ptr)
