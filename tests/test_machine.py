"""Machine descriptions (--machine JSON): every wrong shape is one clear error naming the field path,
never a traceback; every recorded machine keeps loading."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile

import pytest
from helpers import EXAMPLES, MACHINES, ROOT
from hypothesis import HealthCheck, given, settings, strategies as st

from installer import commands, machine as machine_mod
from installer.errors import InstallerError

RECORDED = sorted(MACHINES.glob("*.json"))
SEEDS = {p.name: json.loads(p.read_text()) for p in RECORDED}
BASE = SEEDS["installed-bios.json"]      # partitions, two disks, a NIC: every kind of field


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_every_recorded_machine_loads_and_round_trips(path):
    m = machine_mod.load(path)
    assert m.disks and m.nics
    assert machine_mod.from_dict(json.loads(m.to_json()), "again").to_dict() == m.to_dict()


def _set(path: str, value):
    """An edit of BASE: path like 'disks.0.partitions.1.start'; value DELETE removes it."""
    def edit(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return edit


DELETE = object()

BAD = [   # (edit, the error after "m.json: ")
    (_set("disks", 5), "disks: expected a list, got 5"),
    (_set("disks.1", ["sdb"]), "disks[1]: expected an object (a disk description), got a list"),
    (_set("disks.0.size", "big"), 'disks[0].size: expected an integer, got "big"'),
    (_set("disks.0.size", 1.5), "disks[0].size: expected an integer, got 1.5"),
    (_set("disks.0.size", True), "disks[0].size: expected an integer, got true"),
    (_set("disks.0.size", -1), "disks[0].size: must not be negative, got -1"),
    (_set("disks.0.size", 2 ** 70), f"disks[0].size: {2 ** 70} is out of range"),
    (_set("disks.0.partitions.0.start", "x"), 'disks[0].partitions[0].start: expected an integer, got "x"'),
    (_set("disks.0.partitions", {"1": {}}), "disks[0].partitions: expected a list, got an object"),
    (_set("disks.0.partitions.2", 7), "disks[0].partitions[2]: expected an object (a partition description), got 7"),
    (_set("disks.0.partitions.1.number", 1), "disks[0].partitions[1].number: 1 is already the number of "
                                             "disks[0].partitions[0]"),
    (_set("disks.0.partitions.0.size", DELETE), "disks[0].partitions[0].size: missing (a required field)"),
    (_set("disks.0.partitions.0.fstype", None), "disks[0].partitions[0].fstype: expected a string, got null"),
    (_set("nics.0.mac", DELETE), "nics[0].mac: missing (a required field)"),
    (_set("nics.0.link", "yes"), 'nics[0].link: expected true, false or null, got "yes"'),
    (_set("nics.0.speed_mbps", -100), "nics[0].speed_mbps: must not be negative, got -100"),
    (_set("nics.0.addresses", "10.0.0.1"), 'nics[0].addresses: expected a list, got "10.0.0.1"'),
    (_set("nics.0", {"name": "eth0", "mac": "52:54:00:00:00:01", "extra": {"deep": [1]}}),
     "nics[0].extra: unknown field in a nic description (known: name, mac, driver, link, speed_mbps, addresses)"),
    (_set("disks.0.removable", "false"), 'disks[0].removable: expected true or false, got "false"'),
    (_set("disks.0.by_id", [["nested"]]), "disks[0].by_id[0]: expected a string, got a list"),
    (_set("disks.0.logical_sector_size", 520), "disks[0].logical_sector_size: expected a power of two of "
                                               "at least 512, got 520"),
    (_set("disks.0.physical_sector_size", 256), "disks[0].physical_sector_size: expected a power of two of "
                                                "at least 512, got 256"),
    (_set("disks.0.name", "../../etc/passwd"), 'disks[0].name: not a kernel device name: "../../etc/passwd"'),
    (_set("disks.0.name", ""), 'disks[0].name: not a kernel device name: ""'),
    (_set("disks.1.name", "sda"), 'disks[1].name: "sda" is already the name of disks[0]'),
    (_set("boot_mode", "efi"), 'boot_mode: expected one of "bios", "uefi", got "efi"'),
    (_set("virtualization", "yes"), 'virtualization: expected one of "", "vmx", "svm", got "yes"'),
    (_set("hap", "yes"), 'hap: expected true, false or null, got "yes"'),
    (_set("cpu_count", 0), "cpu_count: must be at least 1, got 0"),
    (_set("memory_mib", "4G"), 'memory_mib: expected an integer, got "4G"'),
    (_set("installations", [{"disk": "sdz"}]), 'installations[0].disk: no disk named "sdz" in disks'),
    (_set("installations", [{"product": "x"}]), "installations[0].disk: missing (a required field)"),
    (_set("colour", "blue"), "colour: unknown field in a machine description (known: boot_mode, "),
    (_set("schema", "1"), 'machine description schema "1" is not supported (expected 1)'),
]


@pytest.mark.parametrize("edit,message", BAD, ids=[m.split(":")[0] + "-" + str(i) for i, (_e, m) in enumerate(BAD)])
def test_a_wrong_shape_names_the_field(edit, message):
    data = copy.deepcopy(BASE)
    edit(data)
    with pytest.raises(InstallerError) as err:
        machine_mod.from_dict(data, "m.json")
    assert str(err.value).startswith("m.json: " + message)


def test_hardware_assisted_paging_needs_virtualization():
    data = {**copy.deepcopy(BASE), "virtualization": "", "hap": True}
    with pytest.raises(InstallerError) as err:
        machine_mod.from_dict(data, "m.json")
    assert str(err.value) == 'm.json: hap: true means the CPU has EPT or NPT for VT-x or AMD-V, and virtualization is ""'
    for hap in (False, None):       # nothing known, or nothing there: both consistent without VT-x/AMD-V
        assert machine_mod.from_dict({**data, "hap": hap}, "m.json").hap is hap
    assert machine_mod.from_dict(BASE, "m.json").hap is None      # recorded before it was probed


@pytest.mark.parametrize("virt,hap,shown", [("vmx", True, "vmx with ept"), ("svm", False, "svm without npt"),
                                            ("svm", None, "svm"), ("", None, "none"), ("", False, "none")])
def test_virtualization_as_the_probe_summary_shows_it(virt, hap, shown):
    assert machine_mod.Machine(virtualization=virt, hap=hap).virtualization_shown() == shown


@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "m.json: a machine description is a JSON object, got a list"),
    ('{"boot_mode": "bios", "boot_mode": "uefi"}', 'm.json: invalid JSON: the key "boot_mode" appears twice'),
    ('{"disks": ' + "[" * 100_000 + "]" * 100_000 + "}", "m.json: invalid JSON: nested too deeply"),
    ('{"memory_mib": ' + "9" * 5000 + "}", "m.json: invalid JSON: Exceeds the limit"),
    ("{\"cpu_model\": \"\xff\"}", "m.json: invalid JSON: not UTF-8 text"),
    ('{"disks": [}', "m.json:1:12: invalid JSON: Expecting value"),
], ids=["list", "duplicate-key", "deep", "huge-number", "latin-1", "syntax"])
def test_a_file_that_is_not_a_description_is_refused(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(InstallerError) as err:
        machine_mod.load("m.json")
    assert str(err.value).startswith(message)


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "m.json"
    with open(path, "wb") as f:
        f.truncate(machine_mod.MAX_FILE + 1)
    with pytest.raises(InstallerError, match="a machine description is at most 16 MiB"):
        machine_mod.load(path)


@pytest.mark.parametrize("edit,message", [BAD[7], BAD[13], BAD[0]])
def test_plan_with_a_bad_machine_is_exit_1_with_the_message_and_no_traceback(tmp_path, edit, message):
    data = copy.deepcopy(BASE)
    edit(data)
    (tmp_path / "m.json").write_text(json.dumps(data))
    res = subprocess.run([sys.executable, "-m", "installer", "plan", str(EXAMPLES / "fresh-dhcp.xml"),
                          "--machine", str(tmp_path / "m.json")], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.strip() == f"error: {tmp_path / 'm.json'}: {message}"
    assert res.stdout == ""


# --- fuzz: mutated recorded machines through `installer plan --machine` -------------------------

ANSWERFILES = [str(EXAMPLES / n) for n in ("fresh-dhcp.xml", "guest-disks-lvm.xml", "raid1.xml",
                                           "upgrade.xml", "restore.xml", "select-by-serial.xml")]
VALUES = [0, 1, -1, 7, 511, 512, 1024, 4096, 65536, 2 ** 20, 2 ** 30, 2 ** 31, 2 ** 40, 2 ** 63 - 1, 2 ** 63,
          2 ** 64, 10 ** 30, 1.5, -0.0,
          True, False, None, "", "x", "sda", "sdb", "nvme0n1", "md127", "../x", "a/b", "bios", "uefi",
          "gpt", "dos", "ext4", "LVM2_member", "vmx", "52:54:00:12:34:56", "\x00", "\u00e9", " ", "eth0",
          "swap", "root-abc", "XenServer", "8.3.0", "ata-DISK_1",
          [], {}, [1], ["a"], [{}], {"x": 1}, {"name": "sdz", "size": 1}, [[[]]]]


def _paths(node, prefix=()):
    """Every place in a JSON tree: (path of keys and indexes)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutate(data, choice: int, kind: int, value):
    paths = list(_paths(data))[1:]
    if not paths:
        return value
    path = paths[choice % len(paths)]
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if kind == 0:                       # replace with a value from the vocabulary
        parent[last] = copy.deepcopy(value)
    elif kind == 1:                     # delete
        del parent[last]
    elif kind == 2:                     # a subtree from elsewhere: nested nonsense of the right words
        other = paths[(choice * 7 + 3) % len(paths)]
        node = data
        for p in other:
            node = node[p]
        parent[last] = copy.deepcopy(node)
    elif kind == 3 and isinstance(parent, list):   # duplicate an item
        parent.insert(last, copy.deepcopy(parent[last]))
    elif kind == 3 and isinstance(parent, dict):   # an unknown field beside it
        parent[f"{last}_x"] = copy.deepcopy(value)
    elif kind >= 4:                     # a value of the same type: odd numbers and names reach the planner
        same = [v for v in VALUES if type(v) is type(parent[last])]
        if same:
            parent[last] = copy.deepcopy(same[(choice + kind) % len(same)])
    return data


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="machine-fuzz.") as d:
        yield d


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(sorted(SEEDS)), af=st.sampled_from(ANSWERFILES),
       edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7), st.sampled_from(VALUES)),
                      min_size=1, max_size=4))
def test_fuzz_mutated_machines_through_plan(scratch, capsys, seed, af, edits):
    data = copy.deepcopy(SEEDS[seed])
    for choice, kind, value in edits:
        data = _mutate(data, choice, kind, value)
    path = os.path.join(scratch, "m.json")
    with open(path, "w") as f:
        json.dump(data, f)
    try:   # what `python -m installer plan` runs: only an InstallerError may come out (exit 1)
        code = commands.main(["plan", af, "--machine", path, "--reproducible"])
    except SystemExit as exc:   # argparse
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "Traceback" not in err
    if code == 1:
        assert err.strip(), "exit 1 without a message"
