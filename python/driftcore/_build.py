"""What this build of driftcore is."""

from __future__ import annotations

from typing import Any

from . import _core


def build_info() -> dict[str, Any]:
    """Version, compiler, CUDA build and threading of the compiled engine.

    Examples
    --------
    >>> import driftcore
    >>> sorted(driftcore.build_info())
    ['compiler', 'cuda', 'cuda_compiled', 'cuda_devices', 'hardware_threads', 'threading', 'version']
    """
    return {
        "version": _core.version(),
        "compiler": _core.compiler(),
        "cuda_compiled": bool(_core.cuda_compiled()),
        "cuda": _core.cuda_build_summary() or None,
        "cuda_devices": int(_core.cuda_device_count()),
        "threading": "std::thread fork-join, fixed blocks (results independent of threads)",
        "hardware_threads": int(_core.hardware_threads()),
    }
