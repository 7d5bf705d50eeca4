"""The audit chain's two secrets: the HMAC key (settings) and the Ed25519 key that signs checkpoints (a PEM file).

The signing key is a file rather than an environment variable so it can sit on its own permissions (0600,
readable by the service account only) and never shows in a process listing or a crash dump of the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config.settings import Settings, get_settings


class SigningKeyMissing(RuntimeError):
    """No signing key where the settings say, and this environment may not make one."""


def audit_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of the chain. Process-wide (like the database URL): every writer of the chain must agree."""
    return (settings or get_settings()).audit_key.encode()


def write_signing_key(path: Path) -> Ed25519PrivateKey:
    """Make a new Ed25519 key at ``path`` (mode 0600); refuses to overwrite an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key; outside production a missing file is created (two racing processes agree)."""
    path = settings.audit_signing_key_file
    if not path.exists():
        if settings.environment == "production":
            raise SigningKeyMissing(
                f"no audit signing key at {path} (TMS_AUDIT_SIGNING_KEY_FILE): create one with "
                "`tmsops audit keygen` before sealing in production")
        try:
            return write_signing_key(path)
        except FileExistsError:  # another process made it first: use theirs
            pass
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file holding either the public key or the private key."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
        return private.public_key()
    public = serialization.load_pem_public_key(data)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError(f"{path} holds a {type(public).__name__}, not an Ed25519 key")
    return public
