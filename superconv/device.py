"""A cheap description of the compute device, without importing TensorFlow.

The dashboard's sidebar shows where training would run. Importing TensorFlow to ask it costs
seconds, so this module reads what the system already exposes: ``nvidia-smi -L`` when it is on
the PATH, else ``/proc/driver/nvidia/gpus/*/information``, and the CPU model from
``/proc/cpuinfo`` with the number of cores this process may use.

Example:
    >>> parse_nvidia_smi_list("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1234)")
    ['NVIDIA H100 80GB HBM3']
    >>> DeviceInfo(gpus=(), cpu="AMD EPYC", cores=2).summary()
    'CPU: AMD EPYC (2 cores)'
"""

from __future__ import annotations

import dataclasses
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["DeviceInfo", "parse_nvidia_smi_list", "parse_proc_gpu_information", "parse_cpuinfo", "probe_device"]

_SMI_LINE = re.compile(r"^GPU\s+\d+:\s*(?P<name>.+?)\s*(?:\(UUID:.*\))?\s*$")


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """What the machine offers for training.

    Attributes:
        gpus: GPU model names, one per device (empty on a CPU-only machine).
        cpu: CPU model name.
        cores: CPU cores available to this process.
    """

    gpus: tuple[str, ...]
    cpu: str
    cores: int

    def summary(self) -> str:
        """One line for the sidebar: the GPU(s) if any, then the CPU.

        Example:
            >>> DeviceInfo(gpus=("NVIDIA A100", "NVIDIA A100"), cpu="Xeon", cores=8).summary()
            'GPU: 2 x NVIDIA A100 · CPU: Xeon (8 cores)'
        """
        cpu = f"CPU: {self.cpu} ({self.cores} core{'s' if self.cores != 1 else ''})"
        if not self.gpus:
            return cpu
        names = sorted(set(self.gpus), key=self.gpus.index)
        parts = [f"{self.gpus.count(n)} x {n}" if self.gpus.count(n) > 1 else n for n in names]
        return f"GPU: {', '.join(parts)} · {cpu}"


def parse_nvidia_smi_list(text: str) -> list[str]:
    """GPU names from the output of ``nvidia-smi -L``.

    Example:
        >>> parse_nvidia_smi_list("GPU 0: Tesla T4 (UUID: GPU-a)\\nGPU 1: Tesla T4 (UUID: GPU-b)\\n")
        ['Tesla T4', 'Tesla T4']
    """
    names = []
    for line in text.splitlines():
        match = _SMI_LINE.match(line.strip())
        if match:
            names.append(match.group("name"))
    return names


def parse_proc_gpu_information(text: str) -> str | None:
    """The ``Model:`` line of a ``/proc/driver/nvidia/gpus/<bus>/information`` file.

    Example:
        >>> parse_proc_gpu_information("Model: \\t\\t NVIDIA H100 80GB HBM3\\nIRQ:   \\t\\t 42\\n")
        'NVIDIA H100 80GB HBM3'
    """
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Model" and value.strip():
            return value.strip()
    return None


def parse_cpuinfo(text: str) -> str | None:
    """The CPU model name in ``/proc/cpuinfo`` text (x86 ``model name``; ARM ``Model``/``Hardware``).

    Example:
        >>> parse_cpuinfo("processor\\t: 0\\nmodel name\\t: AMD EPYC 7B13\\n")
        'AMD EPYC 7B13'
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and value.strip():
            fields.setdefault(key.strip().lower(), value.strip())
    for key in ("model name", "model", "hardware", "cpu model", "processor"):
        value = fields.get(key)
        if value and not value.isdigit():
            return value
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def probe_device(*, nvidia_smi: str | None = "auto", proc_root: str | Path = "/proc", timeout: float = 2.0) -> DeviceInfo:
    """Describe the GPUs and CPU without importing TensorFlow (a few milliseconds).

    Args:
        nvidia_smi: Path to ``nvidia-smi``; ``"auto"`` looks it up on the PATH, ``None`` skips it.
        proc_root: Where ``/proc`` is (tests point it at a fake tree).
        timeout: Seconds to wait for ``nvidia-smi``.

    Returns:
        A :class:`DeviceInfo`; ``gpus`` is empty when no NVIDIA GPU is visible.

    Example:
        >>> info = probe_device(nvidia_smi=None, proc_root="/nonexistent")
        >>> info.gpus, info.cores >= 1
        ((), True)
    """
    proc = Path(proc_root)
    gpus: list[str] = []
    smi = shutil.which("nvidia-smi") if nvidia_smi == "auto" else nvidia_smi
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=timeout, check=False)
            gpus = parse_nvidia_smi_list(out.stdout) if out.returncode == 0 else []
        except (OSError, subprocess.SubprocessError):
            gpus = []
    if not gpus:
        gpu_dir = proc / "driver" / "nvidia" / "gpus"
        if gpu_dir.is_dir():
            for info_file in sorted(gpu_dir.glob("*/information")):
                name = parse_proc_gpu_information(_read(info_file))
                if name:
                    gpus.append(name)
    cpu = parse_cpuinfo(_read(proc / "cpuinfo")) or platform.processor() or platform.machine() or "unknown CPU"
    return DeviceInfo(gpus=tuple(gpus), cpu=cpu, cores=_available_cores())
