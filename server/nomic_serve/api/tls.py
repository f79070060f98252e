"""TLS and mTLS for the gRPC port, with certificates that may be rotated on disk.

TLS_CERT and TLS_KEY (PEM) turn TLS on; TLS_CLIENT_CA also requires client certificates
signed by that CA. The files are checked at start-up (a bad pair is a ConfigError, not a
failed handshake later) and watched: gRPC asks for the configuration at each new handshake,
and a changed file (cert-manager rewrites the Secret's files in place) is read then, so new
connections get the new certificate while open ones carry on, never dropped. A rotation
caught half-written, or a key that does not match its certificate, keeps the previous
configuration and is logged.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import grpc

from ..config import Settings
from ..errors import ConfigError

__all__ = ["CertificateFiles", "server_credentials"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path
    client_ca: Path | None

    def paths(self) -> tuple[Path, ...]:
        return (
            (self.cert, self.key)
            if self.client_ca is None
            else (self.cert, self.key, self.client_ca)
        )

    def stamp(self) -> tuple[tuple[int, int], ...]:
        """What tells a rewritten file apart: modification time and size of each."""
        stats = [os.stat(path) for path in self.paths()]
        return tuple((stat.st_mtime_ns, stat.st_size) for stat in stats)

    def load(self) -> grpc.ServerCertificateConfiguration:
        """The files as gRPC takes them, after checking that they are PEM and that the key
        matches the certificate (ssl raises on either)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        roots = None
        if self.client_ca is not None:
            context.load_verify_locations(self.client_ca)
            roots = self.client_ca.read_bytes()
        pair = (self.key.read_bytes(), self.cert.read_bytes())
        return grpc.ssl_server_certificate_configuration([pair], root_certificates=roots)


class _Watcher:
    """gRPC's certificate fetcher: None (keep the current one) unless the files changed."""

    def __init__(self, files: CertificateFiles, stamp: tuple[tuple[int, int], ...]) -> None:
        self._files = files
        self._stamp = stamp

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        try:
            stamp = self._files.stamp()
            if stamp == self._stamp:
                return None
            configuration = self._files.load()
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.error("TLS files not reloaded, the previous ones stay in use: %s", exc)
            return None
        self._stamp = stamp
        log.info("TLS certificate reloaded", extra={"tls_cert": str(self._files.cert)})
        return configuration


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials for the gRPC port; None when TLS_CERT and TLS_KEY are unset."""
    if settings.tls_cert is None and settings.tls_key is None:
        if settings.tls_client_ca is not None:
            raise ConfigError("TLS_CLIENT_CA needs TLS_CERT and TLS_KEY: mTLS is TLS first")
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        raise ConfigError("TLS_CERT and TLS_KEY go together: set both or neither")
    files = CertificateFiles(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    try:
        stamp = files.stamp()
        initial = files.load()
    except (OSError, ssl.SSLError, ValueError) as exc:
        names = ", ".join(str(path) for path in files.paths())
        raise ConfigError(f"TLS files ({names}) are not usable: {exc}") from None
    # grpc's stubs leave out that the fetcher may return None (no change), as grpc documents.
    fetch = cast(Callable[[], grpc.ServerCertificateConfiguration], _Watcher(files, stamp))
    return grpc.dynamic_ssl_server_credentials(
        initial, fetch, require_client_authentication=files.client_ca is not None
    )
