"""What CPU a benchmark ran on, in one line for its table's heading.

Why: this project's machines are not all alike. Issue 9 was written on a CPU with AVX-512 VNNI, and
earlier runs (CPU not recorded) had ONNX Runtime 1.8x faster than PyTorch and int8 4x; an AMD EPYC
with AVX2 only ran both fp32 runtimes at about the same rate, near its cores' fp32 peak, and int8 at
1.5x. A ratio read without the instruction set beside it cannot be compared across runs.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# Instruction-set flags that decide the model's speed on CPU, in /proc/cpuinfo's spelling; the bf16
# ones also decide the default OpenVINO precision (contradict.backends.openvino_backend).
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_flags(cpuinfo: str) -> set[str]:
    """The flags of the first processor listed in a /proc/cpuinfo text (``flags`` on x86)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


def describe_cpu(cpuinfo_path: Path = Path("/proc/cpuinfo")) -> str:
    """``"AMD EPYC, 2 CPU(s), avx2"``: model name, CPUs, and which of :data:`SPEED_FLAGS` it has."""
    try:
        cpuinfo = cpuinfo_path.read_text()
    except OSError:  # not Linux
        cpuinfo = ""
    flags = cpu_flags(cpuinfo)
    found = [flag for flag in SPEED_FLAGS if flag in flags]
    isa = ", ".join(found) if found else ("no AVX2/AVX-512" if flags else "flags unknown")
    return f"{cpu_model(cpuinfo)}, {os.cpu_count()} CPU(s), {isa}"
