"""The console's TLS certificate: the clinic's own, or one the console makes for itself once.

A self-signed certificate is made the first time it is asked for, in the data folder, and reused
afterwards (until 30 days before it expires), so the fingerprint a therapist checked in the
tablet's browser the first time stays the same. Its SHA-256 fingerprint is printed at every start
for them to compare with what the browser shows. Delete the two files to make a new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exposure.errors import UserError

CERT_FILE = "console-cert.pem"
KEY_FILE = "console-key.pem"
VALID_DAYS = 825
RENEW_BEFORE_DAYS = 30


class ConsoleTLSError(UserError):
    """The console's certificate cannot be used; the message is one sentence with the fix."""


def fingerprint(cert_path: Path) -> str:
    """The certificate's SHA-256 fingerprint as browsers show it: 32 hex pairs joined by colons."""
    digest = _load_cert(cert_path).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A TLS server context for the console (TLS 1.2 at least); ConsoleTLSError when unusable."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=str(cert_path), keyfile=str(key_path))
    except FileNotFoundError as err:
        raise ConsoleTLSError(
            f"No such file {err.filename}: give the paths of the console's PEM certificate "
            "(--tls-cert) and its private key (--tls-key), or use --tls self-signed."
        ) from None
    except (ssl.SSLError, OSError) as err:
        raise ConsoleTLSError(
            f"Cannot use {cert_path} with {key_path} ({getattr(err, 'reason', None) or err}): "
            "give a PEM certificate and its matching, unencrypted private key, or use "
            "--tls self-signed."
        ) from None
    return context


def self_signed(folder: Path, names: Iterable[str]) -> tuple[Path, Path, bool]:
    """The console's own certificate and key in `folder`: (cert, key, made_now).

    Reused while it is valid for 30 more days and the key matches; otherwise a new ECDSA P-256
    certificate is made for `names` (host names and IP addresses), valid for 825 days.
    """
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    if _reusable(cert_path, key_path):
        return cert_path, key_path, False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        cert_pem = _certificate(key, names).public_bytes(serialization.Encoding.PEM)
        _write_atomically(key_path, key_pem, 0o600)
        _write_atomically(cert_path, cert_pem, 0o644)
    except OSError as err:
        raise ConsoleTLSError(
            f"Cannot write the console's certificate in {folder} ({err.strerror or err}): "
            "make that folder writable, or give --tls-cert and --tls-key."
        ) from None
    return cert_path, key_path, True


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise ConsoleTLSError(
            f"No such file {path}: give the path of the console's PEM certificate with "
            "--tls-cert, or use --tls self-signed."
        ) from None
    except ValueError:
        raise ConsoleTLSError(
            f"{path} is not a PEM certificate: give the certificate file (it starts with "
            "-----BEGIN CERTIFICATE-----), or use --tls self-signed."
        ) from None


def _reusable(cert_path: Path, key_path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    renew_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=RENEW_BEFORE_DAYS)
    same_key = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return same_key and cert.not_valid_after_utc > renew_at


def _certificate(key: ec.EllipticCurvePrivateKey, names: Iterable[str]) -> x509.Certificate:
    alt_names: list[x509.GeneralName] = []
    for name in dict.fromkeys(n.strip("[]").lower() for n in names if n):
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vret therapist console")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` through a temporary file, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)  # mkstemp made it 0600; the certificate itself is public
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
