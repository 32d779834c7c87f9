"""The probe's CPU line from /proc/cpuinfo text: VT-x/AMD-V and their hardware-assisted paging
(EPT, NPT), which HVM and PVH guests need (Debian's Xen has no shadow paging). No root needed."""
import pytest

from installer.probe import _cpu


def cpuinfo(flags: str, vmx_flags: str | None = None, model: str = "Some CPU", cpus: int = 2) -> str:
    """/proc/cpuinfo as Linux writes it: one block per CPU, "vmx flags" since Linux 5.6."""
    block = f"processor\t: {{n}}\nvendor_id\t: X\nmodel name\t: {model}\nflags\t\t: {flags}\n"
    if vmx_flags is not None:
        block += f"vmx flags\t: {vmx_flags}\n"
    return "\n".join(block.format(n=n) for n in range(cpus))


@pytest.mark.parametrize("text,virt,hap", [
    # Intel: ept among the flags (and in "vmx flags" on Linux >= 5.6)
    (cpuinfo("fpu vme vmx tpr_shadow flexpriority ept vpid ept_ad", "vnmi ept vpid ept_ad"), "vmx", True),
    (cpuinfo("fpu vme vmx tpr_shadow", "vnmi ept vpid"), "vmx", True),      # only in "vmx flags"
    (cpuinfo("fpu vme vmx tpr_shadow vnmi flexpriority vpid"), "vmx", False),   # a Core 2: VT-x, no EPT
    (cpuinfo("fpu vme svm npt lbrv svm_lock nrip_save"), "svm", True),
    # QEMU's -cpu qemu64,+svm (the installer VM scenarios'): AMD-V, no nested paging
    (cpuinfo("fpu de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse "
             "sse2 syscall nx lm rep_good nopl cpuid extd_apicid pni cx16 hypervisor lahf_lm svm "
             "abm sse4a 3dnowprefetch vmmcall"), "svm", False),
    (cpuinfo("fpu vme npt"), "", None),             # no AMD-V: paging is not asked about
    (cpuinfo("fpu vme hypervisor"), "", None),
    ("", "", None),                                  # /proc/cpuinfo unreadable
])
def test_virtualization_and_its_paging(text, virt, hap):
    _count, _model, found_virt, found_hap = _cpu(text)
    assert (found_virt, found_hap) == (virt, hap)


def test_the_first_cpu_is_read_and_its_model_named():
    text = cpuinfo("vmx ept", model="Intel Xeon") + "\n" + cpuinfo("vmx", model="Other")
    _count, model, virt, hap = _cpu(text)
    assert (model, virt, hap) == ("Intel Xeon", "vmx", True)
