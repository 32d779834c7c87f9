"""SHA-512 crypt against OpenSSL's implementation; hash format checks."""
import subprocess
import warnings

import pytest

from installer import passwd


@pytest.mark.parametrize("password,salt", [("changeme-now", "Pz7Tq1sO"), ("a", "x"), ("p" * 100, "saltsaltsaltsalt"),
                                           ("pässwörd €", "ab/CD.9")])
def test_matches_openssl(password, salt):
    expected = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=password,
                              capture_output=True, text=True, check=True).stdout.strip()
    assert passwd.sha512_crypt(password, salt) == expected


def test_random_salt_and_verify():
    a, b = passwd.sha512_crypt("secret-1"), passwd.sha512_crypt("secret-1")
    assert a != b and passwd.verify("secret-1", a) and not passwd.verify("secret-2", a)
    assert passwd.hash_format(a) == "sha512-crypt"


@pytest.mark.parametrize("value,fmt", [
    ("$5$abc$" + "a" * 43, "sha256-crypt"), ("$y$j9T$abcd$" + "b" * 43, "yescrypt"),
    ("$2b$12$" + "c" * 53, "bcrypt"), ("$1$abc$" + "d" * 22, "md5-crypt"),
    ("$6$rounds=10000$abc$" + "e" * 86, "sha512-crypt")])
def test_formats(value, fmt):
    assert passwd.hash_format(value) == fmt


@pytest.mark.parametrize("value", ["", "!!", "*", "plaintext", "$6$abc$short", "$7$x$y"])
def test_bad_hashes(value):
    with pytest.raises(ValueError):
        passwd.hash_format(value)


def test_the_longest_password_matches_openssl_and_the_hosts_libxcrypt():
    """The P sequence is hashed piece by piece now (not password * len(password) in one buffer):
    the hash is unchanged. The longest password allowed is one the host's crypt() still takes."""
    longest = ("Long-Pa55word-" * 10)[:passwd.MAX_LENGTH]
    expected = subprocess.run(["openssl", "passwd", "-6", "-salt", "LongSalt", "-stdin"], input=longest,
                              capture_output=True, text=True, check=True).stdout.strip()
    assert passwd.too_long(longest) is None
    assert passwd.sha512_crypt(longest, "LongSalt") == expected
    widest = "\U0001F511" * 127 + "\u20ac"          # 128 characters, 511 bytes in UTF-8
    wider = "\U0001F511" * 128                     # 512 bytes
    assert passwd.too_long(widest) is None and "511 bytes" in passwd.too_long(wider)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")               # gone in Python 3.13; the venv has it
    assert crypt.crypt(widest, "$6$WideSalt") == passwd.sha512_crypt(widest, "WideSalt")
    assert crypt.crypt(wider, "$6$WideSalt") == "*0", "libxcrypt's limit moved: see MAX_BYTES"


def test_memory_is_linear_in_the_password_length():
    """20,000 characters used to take 400 MB (and a million a MemoryError)."""
    import tracemalloc
    tracemalloc.start()
    try:
        passwd.sha512_crypt("p" * 20_000, "salt", rounds=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"{peak} bytes at the peak"


def test_the_answer_file_caps_plaintext_passwords_with_a_located_error():
    from helpers import parse_text
    from installer.errors import ConfigError
    xml = ("<installation>\n  <primary-disk>sda</primary-disk>\n  <source type=\"local\"/>\n"
           "  <admin-interface name=\"eth0\" proto=\"dhcp\"/>\n  <root-password>{}</root-password>\n"
           "</installation>\n")
    cfg, _ = parse_text(xml.format("a" * passwd.MAX_LENGTH))
    assert passwd.verify("a" * passwd.MAX_LENGTH, cfg.root_password.hash)
    for length in (passwd.MAX_LENGTH + 1, 1_000_000):
        with pytest.raises(ConfigError) as exc:
            parse_text(xml.format("a" * length), "cap.xml")
        assert str(exc.value) == (f"cap.xml:5:18: error: <root-password>: the password must be at most "
                                  f"{passwd.MAX_LENGTH} characters long (it has {length})")
    with pytest.raises(ConfigError, match=r"cap.xml:5:18: error: <root-password>: the password must be "
                       r"at most 511 bytes long in UTF-8 \(it has 512\)"):
        parse_text(xml.format("\U0001F511" * 128), "cap.xml")
    # a hash is not a plaintext password: its length is the format's business
    with pytest.raises(ConfigError, match="not a valid crypt"):
        parse_text(xml.replace("<root-password>", '<root-password type="hash">').format("$6$" + "a" * 10**6))


def test_the_wizard_caps_the_password_too():
    from installer import wizard
    ok = "b" * passwd.MAX_LENGTH
    assert wizard.check_password(ok, ok, "") == {}
    long = ok + "b"
    assert wizard.check_password(long, long, "") == {
        "password": f"at most {passwd.MAX_LENGTH} characters long (it has {passwd.MAX_LENGTH + 1})"}
