"""SHA-512 crypt against OpenSSL's implementation; hash format checks."""
import subprocess

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
