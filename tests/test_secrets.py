"""Secrets: the masked answer file (written again from the parsed document), the masker's patterns,
and inputs of every hostile shape up to the 1 MiB limit going through every command in linear time."""
from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import signal
import tarfile

import pytest
from helpers import MACHINES, ROOT

from installer import answerfile_mask, cmdline, commands, engine
from installer.answerfile import parse_bytes
from installer.answerfile_mask import MASKED_HASH, MaskError, masked_answerfile
from installer.errors import ConfigError
from installer.runner import MASK, SECRETS, Secrets
from installer.xmlsafe import MAX_BYTES, parse as parse_xml

FRESH = """<?xml version="1.0"{decl}?>
<installation{mode}>
  <!-- the operator's notes -->
  <primary-disk>sda</primary-disk>
  <root-password{type}>{password}</root-password>
  <source type="url">http://192.0.2.5/tree/</source>
  <admin-interface name="eth0" proto="dhcp"/>
  <hostname>host1</hostname>
  <timezone>Europe/Paris</timezone>
</installation>
"""
UPGRADE = """<?xml version="1.0"?>
<installation mode="upgrade">
  <existing-installation>sda</existing-installation>
  <root-password>{password}</root-password>
  <source type="local"/>
</installation>
"""


def answer_file(password: str, decl: str = "", mode: str = "", type_: str = "") -> str:
    return FRESH.format(password=password, decl=decl, mode=mode, type=type_)


def values_of(text: str) -> list[str]:
    """Every text and attribute value of an XML document (what a reader of it would see)."""
    found, stack = [], [parse_xml(text.encode())]
    while stack:
        node = stack.pop()
        found += [node.text] + [a.value for a in node.attrs.values()]
        stack += node.children
    return found


def assert_no_password(masked: str, password: str) -> None:
    assert password not in masked
    assert not any(password in v for v in values_of(masked)), "the password is back once parsed"


def without_password(cfg) -> dict:
    data = cfg.to_dict()
    data.pop("root_password")
    return data


# -- the masked answer file -----------------------------------------------------------------------

# (how the password is written in the file, the password it means)
SPELLINGS = [
    ("Plain-Pa55word", "Plain-Pa55word"),
    ("Amp&amp;Pa55word", "Amp&Pa55word"),
    ("Lt&lt;Gt&gt;Pa55", "Lt<Gt>Pa55"),
    ("&#67;harRef&#x50;a55", "CharRefPa55"),
    ("Cdata<![CDATA[Pa55<&>]]>word", "CdataPa55<&>word"),
    ("Split<!-- a comment -->Pa55word", "SplitPa55word"),
    ("Pi<?pi x?>Pa55word", "PiPa55word"),
    ("  Spaced-Pa55word \n ", "Spaced-Pa55word"),
    ("Qu&quot;ote&apos;Pa55", "Qu\"ote'Pa55"),
    ("Unicode-Pä55wörd-€", "Unicode-Pä55wörd-€"),
]


@pytest.mark.parametrize("written,password", SPELLINGS)
def test_the_masked_file_holds_no_password_however_it_is_spelled(written, password):
    raw = answer_file(written).encode()
    cfg, _ = parse_bytes(raw)
    masked = masked_answerfile(raw)
    assert_no_password(masked, password)
    assert f"<root-password>{MASK}</root-password>" in masked
    again, _ = parse_bytes(masked.encode())
    assert without_password(again) == without_password(cfg), "same meaning apart from the password"
    assert again.root_password.origin == "plaintext"


@pytest.mark.parametrize("decl,codec", [(' encoding="UTF-16"', "utf-16"), ("", "utf-16"),
                                        (' encoding="ISO-8859-1"', "latin-1")])
def test_the_masked_file_of_a_utf16_or_latin1_file_holds_no_password(decl, codec):
    password = "Enc0ded-pässwörd"
    raw = answer_file(password, decl=decl).encode(codec)
    assert password.encode("utf-8") not in raw     # the old raw-text masking could not see it
    masked = masked_answerfile(raw)
    assert_no_password(masked, password)
    cfg, _ = parse_bytes(raw)
    assert without_password(parse_bytes(masked.encode())[0]) == without_password(cfg)


def test_a_hash_is_blanked_to_a_hash_nobody_knows():
    hashed = "$6$Salt1234$" + "h" * 86
    raw = answer_file(hashed, type_=' type="hash"').encode()
    masked = masked_answerfile(raw)
    assert hashed not in masked and MASKED_HASH in masked
    cfg, _ = parse_bytes(masked.encode())
    assert cfg.root_password.hash == MASKED_HASH and cfg.root_password.origin == "hash"


def test_comments_are_dropped_and_the_header_says_so():
    raw = answer_file("Comment-Pa55word").replace(
        "<!-- the operator's notes -->", "<!-- old: <root-password>Commented-0ut-pw</root-password> -->")
    masked = masked_answerfile(raw.encode())
    assert "Commented-0ut-pw" not in masked and "operator" not in masked
    assert masked.splitlines()[1].startswith("<!-- Masked copy")
    assert "the original's comments are left out" in " ".join(masked.split())


def test_upgrade_files_register_and_blank_the_password():
    """mode="upgrade" ignores <root-password> (with a warning), but it is a secret all the same."""
    password = "Upgr4de-Secret&x"
    raw = UPGRADE.format(password="Upgr4de-Secret&amp;x").encode()
    cfg, report = parse_bytes(raw)
    assert any("ignored in upgrade mode" in w.message for w in report.warnings)
    session = Secrets()
    session.add_all(cfg.secrets)
    assert session.mask(f"log line with {password}") == f"log line with {MASK}"
    masked = masked_answerfile(raw)
    assert_no_password(masked, password)
    assert parse_bytes(masked.encode())[0].to_dict() == cfg.to_dict()


def test_url_credentials_and_secret_query_values_are_blanked_in_every_location():
    raw = f"""<installation>
  <primary-disk>sda</primary-disk>
  <source type="url">http://deploy:S0urce%2Fp@ss@192.0.2.5/tree/?access_token=S0urceT0ken&amp;v=1</source>
  <driver-source type="url">https://Dr1verT0kenAsUser@192.0.2.5/drivers/</driver-source>
  <script stage="installation-start" type="url">http://192.0.2.5/h.sh?X-Amz-Signature=Scr1ptSig</script>
  <admin-interface name="eth0" proto="dhcp"/>
</installation>""".encode()
    cfg, _ = parse_bytes(raw)
    masked = masked_answerfile(raw)
    for secret in ("S0urce", "p@ss", "S0urceT0ken", "Dr1verT0kenAsUser", "Scr1ptSig", "deploy"):
        assert secret not in masked
    assert f"http://{MASK}@192.0.2.5/tree/?access_token={MASK}&amp;v=1" in masked
    again, _ = parse_bytes(masked.encode())
    assert [s.type for s in again.sources] == [s.type for s in cfg.sources] == ["url"]
    assert again.hooks[0].stage == cfg.hooks[0].stage and again.interface == cfg.interface


def test_masking_bad_xml_is_a_located_error_of_its_own():
    with pytest.raises(MaskError) as exc:
        masked_answerfile(b"<installation>\n  <root-password>x</root-pass>\n", "af.xml")
    assert isinstance(exc.value, ConfigError)
    assert str(exc.value).startswith("af.xml:2:")


def test_secret_fields_are_declared_in_one_table():
    """A new secret (a pool join key, say) is one line in SECRET_FIELDS: it is then registered,
    blanked, and its element's text or attribute never written."""
    fields = dict(answerfile_mask.SECRET_FIELDS)
    try:
        answerfile_mask.SECRET_FIELDS[("pool", "join-key")] = answerfile_mask.SECRET
        raw = b'<installation><pool join-key="J0in-Key-123"/></installation>'
        masked = masked_answerfile(raw)
        secrets = answerfile_mask.secrets_of(parse_xml(raw))
    finally:
        answerfile_mask.SECRET_FIELDS.clear()
        answerfile_mask.SECRET_FIELDS.update(fields)
    assert "J0in-Key-123" not in masked and f'join-key="{MASK}"' in masked
    assert "J0in-Key-123" in secrets


def test_every_caller_keeps_only_the_masked_copy(tmp_path, monkeypatch):
    """install --dry-run hands the engine (which copies it to the target) the rewritten copy."""
    password = "Cal1er-Pa55&word"
    path = tmp_path / "af.xml"
    path.write_text(answer_file("Cal1er-Pa55&amp;<!--x-->word"))
    seen = []
    monkeypatch.setattr(engine, "run", lambda ctx: seen.append(ctx.answerfile_masked)
                        or engine.Outcome(True, None, ""))
    assert commands.main(["install", "--dry-run", str(path), "--machine", str(MACHINES / "uefi-3disks.json")]) == 0
    assert "Cal1er-Pa55&amp;<!--x-->word" in SECRETS.mask(path.read_text()), "raw masking misses it"
    assert seen and "<hostname>host1</hostname>" in seen[0]
    assert_no_password(seen[0], password)


def test_the_boot_support_bundle_holds_the_masked_copy_even_of_an_invalid_file(tmp_path, monkeypatch, capsys):
    from installer import boot
    monkeypatch.setattr(boot, "RUN", str(tmp_path))
    monkeypatch.setattr(boot, "LOG", str(tmp_path / "installer.log"))
    monkeypatch.setattr(boot, "EVENTS", str(tmp_path / "events.jsonl"))
    monkeypatch.setattr(boot.Consoles, "__init__", lambda self, names: setattr(self, "names", []))
    monkeypatch.setattr(boot, "at_exit", lambda action, say: None)
    af = tmp_path / "given.xml"
    af.write_text(answer_file("B0ot-<![CDATA[Pa55]]>word").replace("<hostname>", "<hostnam>")
                  .replace("</hostname>", "</hostnam>"))
    monkeypatch.setattr(boot.cmdline, "read_proc", lambda: f"answerfile=file://{af} atexit=poweroff")
    assert boot.main() == 1
    assert "the answer file is invalid" in capsys.readouterr().err
    [bundle] = tmp_path.glob("support-*.tar.gz")
    with tarfile.open(bundle) as tar:
        saved = tar.extractfile("answerfile.xml").read().decode()
    assert "<hostnam>host1</hostnam>" in saved
    assert_no_password(saved, "B0ot-Pa55word")


# -- who registers secrets -------------------------------------------------------------------------

PLAIN_AND_URL = """<installation>
  <primary-disk>sda</primary-disk>
  <root-password>Par5er-Pa55word</root-password>
  <source type="url">http://deploy:Src-Pa55%2Fw@192.0.2.5/tree/</source>
  <script stage="installation-start" type="url">https://Scr1pt-T0ken@192.0.2.5/h.sh</script>
  <admin-interface name="eth0" proto="dhcp"/>
</installation>
"""


def test_the_parser_touches_no_global_and_returns_the_secrets_it_found():
    """Parsing registers nothing anywhere: the secrets travel on the config (never serialised), and
    the front end that runs the session registers them with its mask."""
    before = (set(SECRETS._values), list(SECRETS._ordered))
    cfg, _ = parse_bytes(PLAIN_AND_URL.encode())
    masked_answerfile(PLAIN_AND_URL.encode())
    assert (set(SECRETS._values), list(SECRETS._ordered)) == before
    assert {"Par5er-Pa55word", cfg.root_password.hash, "Src-Pa55%2Fw", "Src-Pa55/w",
            "Scr1pt-T0ken"} <= cfg.secrets
    assert "secrets" not in cfg.to_dict() and "Par5er" not in repr(cfg)
    session = Secrets()
    session.add_all(cfg.secrets)
    for secret in ("Par5er-Pa55word", cfg.root_password.hash, "Src-Pa55/w", "Scr1pt-T0ken"):
        assert session.mask(f"a log line with {secret}.") == f"a log line with {MASK}."


def test_no_parser_registers_secrets():
    """The answer file's, the boot line's and the wizard's parsers return their secrets; only front
    ends, the session and fetch (before a transfer) register any with the process's mask."""
    parsers = sorted((ROOT / "installer").glob("answerfile*.py")) + [
        ROOT / "installer" / name for name in ("cmdline.py", "wizard.py", "locations.py", "config.py")]
    for path in parsers:
        calls = {ast.unparse(node.func) for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call)}
        registering = {c for c in calls if c.endswith(("SECRETS.add", "SECRETS.add_all"))
                       or c in ("fetch.register", "fetch.parse")}
        assert not registering, f"{path.name} registers: {registering}"


@pytest.mark.parametrize("written,password", SPELLINGS)
def test_a_session_masks_the_password_in_every_spelling(written, password):
    cfg, _ = parse_bytes(answer_file(written).encode())
    session = Secrets()
    session.add_all(cfg.secrets)
    for shown in (password, json.dumps(password)[1:-1], cfg.root_password.hash):
        assert shown not in session.mask(f'log: {shown} and {{"pw": "{shown}"}}')


def test_a_session_of_the_command_line_registers_the_answer_files_secrets(tmp_path, capsys):
    """check prints the config (the password's hash among it): masked once cli registered them."""
    path = tmp_path / "af.xml"
    path.write_text(answer_file("Cl1-Pa55word-long"))
    assert commands.main(["validate", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Cl1-Pa55word-long" not in out and "$6$" not in out


# -- the masker's patterns ------------------------------------------------------------------------

@pytest.mark.parametrize("text,secrets", [
    ("https://ghp_T0kenT0kenT0kenT0kenT0ken@github.com/o/r.git", ["ghp_T0ken"]),
    ("fetch https://T0KEN@host/x now", ["T0KEN"]),
    ("https://LongT0kenAsTheUserName1:x-oauth-basic@host/x", ["LongT0kenAsTheUserName1"]),
    ("http://user:pa/ss@host/x", ["pa/ss", "ss@"]),
    ("http://user:p@ss@host/x", ["p@ss"]),
    ("http://user:p@ss/w:rd@host/x?y=1", ["p@ss/w:rd"]),
    ("ftp://user:Ftp-Pw@host/x", ["Ftp-Pw"]),
    ("http://h/x?access_token=A1&b=2", ["A1"]),
    ("http://h/x?token=T1", ["T1"]),
    ("http://h/x?X-Amz-Signature=S1&X-Amz-Credential=C1%2F&X-Amz-Security-Token=T2", ["S1", "C1", "T2"]),
    ("http://h/x?sv=2022&sig=SasSig1&se=2030", ["SasSig1"]),
    ("http://h/x?signature=S2&api_key=K1&apikey=K2&api-key=K3&key=K4", ["S2", "K1", "K2", "K3", "K4"]),
    ("http://h/x?password=P1&passwd=P2&pwd=P3&secret=S3&client_secret=S4", ["P1", "P2", "P3", "S3", "S4"]),
    ("http://h/x?private_token=T3&auth=A2&X-Goog-Signature=G1&X-Goog-Credential=G2",
     ["T3", "A2", "G1", "G2"]),
    ("sshpassword=Ssh-Pw&1 console=ttyS0", ["Ssh-Pw", "&1"]),
    ('run --password="quoted secret" --x', ["quoted", "secret"]),
    ("run password=\"unclosed-Qu0te and more", ["unclosed-Qu0te"]),
    ('{"location": "http://h/x?token=J1", "other": "v"}', ["J1"]),
    ("<source>https://h/x?token=X1&amp;v=1</source>", ["X1"]),
])
def test_the_masker_catches_credentials_nobody_registered(text, secrets):
    masked = Secrets().mask(text)
    for secret in secrets:
        assert secret not in masked, masked
    assert MASK in masked


@pytest.mark.parametrize("text", [
    "keymap=us console=ttyS0,115200 atexit=reboot", "http://192.0.2.5/tree/?arch=x86_64&v=2",
    "user@example.com wrote 2+2=4", "nfs://server/export/tree", "ssh-ed25519 AAAAC3Nza user@host",
])
def test_the_masker_leaves_what_is_no_secret(text):
    assert Secrets().mask(text) == text


def test_names_stay_readable_and_json_stays_json():
    s = Secrets()
    assert s.mask("http://deploy:pw@192.0.2.5/t") == f"http://deploy:{MASK}@192.0.2.5/t"
    doc = json.dumps({"a": "http://u:p@h/x?token=t&b=1", "b": "x@y", "c": "token=abc"}, indent=2)
    masked = json.loads(s.mask(doc))
    assert masked == {"a": f"http://u:{MASK}@h/x?token={MASK}&b=1", "b": "x@y", "c": f"token={MASK}"}


def test_registered_values_are_masked_in_every_spelling():
    s = Secrets()
    s.add('Re"g é&/pw')
    for spelling in ['Re"g é&/pw', "Re%22g%20%C3%A9%26%2Fpw", "Re%22g+%C3%A9%26%2Fpw",
                     json.dumps('Re"g é&/pw')[1:-1], "Re&quot;g é&amp;/pw"]:
        assert s.mask(f"<{spelling}>") == f"<{MASK}>", spelling


# -- size: every command on every hostile shape at the 1 MiB limit ----------------------------------

def _bench():
    spec = importlib.util.spec_from_file_location("input_bench", ROOT / "bench" / "input_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
GUARD = 30      # seconds: linear code takes well under 2; a quadratic spot takes minutes


@contextlib.contextmanager
def guard(what: str):
    def expire(*_):
        raise TimeoutError(f"{what} took more than {GUARD} s: something is quadratic again")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(GUARD)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("shape", sorted(BENCH.SHAPES))
def test_a_1mib_file_of_every_shape_goes_through_every_command(shape, tmp_path):
    raw = BENCH.SHAPES[shape](MAX_BYTES)
    assert MAX_BYTES * 0.9 < len(raw) <= MAX_BYTES, len(raw)
    path = tmp_path / f"{shape}.xml"
    path.write_bytes(raw)
    for command, argv in BENCH.COMMANDS.items():
        with guard(f"{command} of a 1 MiB {shape} file"):
            seconds, code, out = BENCH.timed(argv(str(path)))
        where = out.find("Traceback")
        assert code in (0, 1) and where < 0, (command, code, out[max(0, where - 500):where + 1500])
        assert BENCH.PASSWORD not in out
    with guard(f"masking a 1 MiB {shape} file"):
        try:
            assert BENCH.PASSWORD not in masked_answerfile(raw)
        except MaskError:
            pass


@pytest.mark.parametrize("shape", sorted(BENCH.BOOT_SHAPES))
def test_a_1mib_boot_line_of_every_shape_is_parsed(shape):
    line = BENCH.BOOT_SHAPES[shape](MAX_BYTES)
    with guard(f"a 1 MiB {shape} boot line"):
        try:
            cmdline.parse(line)
        except ConfigError:
            pass
        seconds, code, out = BENCH.timed(["cmdline", line])
    assert code in (0, 1) and "Traceback" not in out


def test_the_masker_is_linear_on_runs_that_used_to_backtrack():
    """The old user-info pattern backtracked over every run of scheme characters: 13 s for a 60 KB
    comment. Each shape here is a megabyte; together they take well under a second."""
    s = Secrets()
    s.add("Regist3red-Secret")
    n = MAX_BYTES
    shapes = ["a" * n, "a:" * (n // 2), "a=" * (n // 2), "a@" * (n // 2), "://" * (n // 3),
              "http://" + "a:" * (n // 2), "token=" * (n // 6), 'password="' * (n // 10),
              "x=\\" * (n // 3), "&token=x" * (n // 8), "Regist3red-Secre" * (n // 16)]
    with guard("masking megabyte runs"):
        for text in shapes:
            s.mask(text)
        assert s.mask("http://" + "a:" * (n // 2) + "@h/") == f"http://a:{MASK}@h/"
        assert s.mask("x " * (n // 4) + "Regist3red-Secret") == "x " * (n // 4) + MASK


def test_a_name_that_is_xml_only_in_latin1_is_refused_not_copied_broken():
    """Found by the fuzz test: expat takes U+00AA in an element name in a Latin-1 file but not in
    UTF-8, the masked copy's encoding; the copy would not be XML."""
    raw = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<installation>\n'
           '  <root-password>Pä55-secret</root-password>\n  <\xaasource type="local"/>\n'
           '</installation>\n').encode("latin-1")
    with pytest.raises(MaskError) as exc:
        masked_answerfile(raw, "l1.xml")
    assert [str(d) for d in exc.value.diagnostics] == [
        "l1.xml:4:3: error: the name 'ªsource' is not XML in UTF-8; no masked copy can be written"]
    assert "secret" not in str(exc.value)
