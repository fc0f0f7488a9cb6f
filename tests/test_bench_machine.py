"""The benchmarks' CPU line: read from a /proc/cpuinfo text, not from the machine running the tests."""

from pathlib import Path

from bench.machine import cpu_flags, cpu_model, describe_cpu

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_int8
"""


def test_the_speed_flags_and_model_come_from_cpuinfo(tmp_path: Path):
    assert {"avx2", "avx512_vnni", "amx_int8"} <= cpu_flags(CPUINFO)
    assert cpu_model(CPUINFO) == "Intel(R) Xeon(R) Platinum 8488C"
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    line = describe_cpu(tmp_path / "cpuinfo")
    assert line.startswith("Intel(R) Xeon(R) Platinum 8488C, ")
    assert line.endswith("avx2, avx512f, avx512_vnni, avx512_bf16, amx_bf16, amx_int8")


def test_a_cpu_without_the_flags_says_so(tmp_path: Path):
    (tmp_path / "cpuinfo").write_text("model name\t: Old CPU\nflags\t\t: fpu sse2\n")
    assert describe_cpu(tmp_path / "cpuinfo").endswith("no AVX2/AVX-512")
    assert describe_cpu(tmp_path / "missing").endswith("flags unknown")
