"""The signing algorithms gslb offers, over the `cryptography` package.

ECDSA P-256 with SHA-256 (13, RFC 6605) is the default: small signatures, fast to make and to
check, and what most signed zones use today. Ed25519 (15, RFC 8080) is the option. Both sign
deterministically here (RFC 6979 for ECDSA), so every server holding the same key files makes the
same bytes for the same RRset and validity period.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ECDSAP256SHA256 = 13
ED25519 = 15


class KeyMaterialError(ValueError):
    """Key bytes that do not make a key of the stated algorithm."""


@dataclass(frozen=True)
class Algorithm:
    number: int
    mnemonic: str  # as BIND writes it in .private files and dnssec-keygen -a takes it
    option: str  # as `gslb dnssec keygen --algorithm` takes it


ALGORITHMS = {
    ECDSAP256SHA256: Algorithm(ECDSAP256SHA256, "ECDSAP256SHA256", "ecdsa256"),
    ED25519: Algorithm(ED25519, "ED25519", "ed25519"),
}
BY_OPTION = {algorithm.option: algorithm for algorithm in ALGORITHMS.values()}


def _ecdsa() -> ec.ECDSA:
    """Deterministic ECDSA where the OpenSSL underneath offers it, randomised otherwise."""
    try:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except (TypeError, UnsupportedAlgorithm):  # pragma: no cover - older cryptography or OpenSSL
        return ec.ECDSA(hashes.SHA256())


class PrivateKey:
    """A private key of one algorithm: signs, and gives the public key as DNSKEY carries it."""

    __slots__ = ("_ecdsa", "_key", "algorithm", "public")

    def __init__(self, algorithm: int, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> None:
        self.algorithm = algorithm
        self._key = key
        self._ecdsa = _ecdsa()
        self.public = public_bytes(key)

    @classmethod
    def generate(cls, algorithm: int) -> PrivateKey:
        if algorithm == ECDSAP256SHA256:
            return cls(algorithm, ec.generate_private_key(ec.SECP256R1()))
        if algorithm == ED25519:
            return cls(algorithm, ed25519.Ed25519PrivateKey.generate())
        raise KeyMaterialError(f"algorithm {algorithm} is not supported (13 ECDSAP256SHA256, 15 ED25519)")

    @classmethod
    def from_base64(cls, algorithm: int, text: str) -> PrivateKey:
        """The `PrivateKey:` field of a BIND .private file (the scalar, or the Ed25519 seed)."""
        try:
            raw = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise KeyMaterialError("PrivateKey is not base64") from None
        if len(raw) != 32:
            raise KeyMaterialError(f"PrivateKey holds {len(raw)} bytes (32 expected for algorithm {algorithm})")
        if algorithm == ECDSAP256SHA256:
            scalar = int.from_bytes(raw, "big")
            try:
                return cls(algorithm, ec.derive_private_key(scalar, ec.SECP256R1()))
            except ValueError:
                raise KeyMaterialError("PrivateKey is not a P-256 private key") from None
        if algorithm == ED25519:
            return cls(algorithm, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
        raise KeyMaterialError(f"algorithm {algorithm} is not supported (13 ECDSAP256SHA256, 15 ED25519)")

    def to_base64(self) -> str:
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            raw = key.private_numbers().private_value.to_bytes(32, "big")
        else:
            raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        return base64.b64encode(raw).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        """The signature as RRSIG carries it: r and s of 32 bytes each for ECDSA (RFC 6605)."""
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, self._ecdsa))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)


def public_bytes(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    """The DNSKEY public key field: X and Y for P-256 (RFC 6605), the 32 bytes for Ed25519."""
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

