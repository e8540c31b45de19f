"""The device probe: parsers on real-format text, and the probe on a fake /proc tree and nvidia-smi."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from superconv.device import DeviceInfo, parse_cpuinfo, parse_nvidia_smi_list, parse_proc_gpu_information, probe_device

SMI = """GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5c0a1e8b-8d3c-1a2b-9f0e-0123456789ab)
GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-6d1b2f9c-9e4d-2b3c-a01f-123456789abc)
"""
PROC_INFO = """Model: \t\t NVIDIA A100-SXM4-40GB
IRQ:   \t\t 152
GPU UUID: \t GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
Video BIOS: \t 92.00.19.00.01
Bus Type: \t PCIe
"""
CPUINFO_X86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6230\n\nprocessor\t: 1\n"
CPUINFO_ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"


def test_parse_nvidia_smi_list():
    assert parse_nvidia_smi_list(SMI) == ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]
    assert parse_nvidia_smi_list("No devices were found\n") == []
    assert parse_nvidia_smi_list("GPU 0: Tesla T4\n") == ["Tesla T4"]  # older drivers: no UUID


def test_parse_proc_gpu_information():
    assert parse_proc_gpu_information(PROC_INFO) == "NVIDIA A100-SXM4-40GB"
    assert parse_proc_gpu_information("IRQ: 5\n") is None


def test_parse_cpuinfo_x86_and_arm():
    assert parse_cpuinfo(CPUINFO_X86) == "Intel(R) Xeon(R) Gold 6230"  # not the numeric 'model' line
    assert parse_cpuinfo(CPUINFO_ARM) == "Raspberry Pi 4 Model B Rev 1.4"
    assert parse_cpuinfo("") is None


def test_summary_groups_identical_gpus():
    info = DeviceInfo(gpus=("NVIDIA H100", "NVIDIA H100", "Tesla T4"), cpu="Xeon", cores=1)
    assert info.summary() == "GPU: 2 x NVIDIA H100, Tesla T4 · CPU: Xeon (1 core)"


def _fake_proc(tmp_path: Path, with_gpu: bool) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cpuinfo").write_text(CPUINFO_X86)
    if with_gpu:
        gpu = proc / "driver" / "nvidia" / "gpus" / "0000:3b:00.0"
        gpu.mkdir(parents=True)
        (gpu / "information").write_text(PROC_INFO)
    return proc


def test_probe_uses_nvidia_smi_first(tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1:] == ['-L']\nprint({SMI!r}, end='')\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    info = probe_device(nvidia_smi=str(smi), proc_root=_fake_proc(tmp_path, with_gpu=True))
    assert info.gpus == ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3")
    assert info.cpu == "Intel(R) Xeon(R) Gold 6230"
    assert info.cores == len(os.sched_getaffinity(0))


def test_probe_falls_back_to_proc_when_nvidia_smi_fails(tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    info = probe_device(nvidia_smi=str(smi), proc_root=_fake_proc(tmp_path, with_gpu=True))
    assert info.gpus == ("NVIDIA A100-SXM4-40GB",)
    (tmp_path / "cpu_only").mkdir()
    missing = probe_device(nvidia_smi=str(tmp_path / "absent"), proc_root=_fake_proc(tmp_path / "cpu_only", with_gpu=False))
    assert missing.gpus == ()
    assert missing.summary() == f"CPU: Intel(R) Xeon(R) Gold 6230 ({missing.cores} core{'s' if missing.cores != 1 else ''})"


def test_probe_of_this_machine_is_fast_and_does_not_import_tensorflow():
    code = ("import sys; from superconv.device import probe_device; info = probe_device(); "
            "print(info.cpu != '' and info.cores >= 1, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["True", "False"], out.stderr
