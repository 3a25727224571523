"""The ``tls-config`` config node: certificates and verification for HTTPS clients.

Certificates come from files (``cert``, ``key``, ``ca`` paths) or, when no
path is set, from the node's credentials (``certdata``, ``keydata``,
``cadata`` as PEM text, and ``passphrase``). ``verifyservercert`` turns server
certificate checks on or off; ``servername`` sets the SNI name and
``alpnprotocol`` the one ALPN protocol to offer.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from typing import Any

from runtime.node import Node
from runtime.registry import register


@register
class TlsConfigNode(Node):
    """Hold TLS settings for http request nodes and build their SSL context."""

    type_name = "tls-config"

    def __init__(self, config: dict[str, Any], flow: Any) -> None:
        super().__init__(config, flow)
        self.valid = True
        self.verify_server_cert = bool(config.get("verifyservercert"))
        self.servername = (config.get("servername") or "").strip()
        self.alpn_protocol = (config.get("alpnprotocol") or "").strip()
        credentials = config.get("credentials") or {}
        self.passphrase: str | None = credentials.get("passphrase") or None
        self.cert: bytes | None = None
        self.key: bytes | None = None
        self.ca: bytes | None = None

        cert_path = (config.get("cert") or "").strip()
        key_path = (config.get("key") or "").strip()
        ca_path = (config.get("ca") or "").strip()
        if cert_path or key_path or ca_path:
            self._load_files(cert_path, key_path, ca_path)
        else:
            self._load_credentials(credentials)

    def _load_files(self, cert_path: str, key_path: str, ca_path: str) -> None:
        if bool(cert_path) != bool(key_path):
            self.valid = False
            self.error("No certificate/key file provided")
            return
        try:
            self.cert = _read(cert_path)
            self.key = _read(key_path)
            self.ca = _read(ca_path)
        except OSError as exc:
            self.valid = False
            self.error(f"Error: {exc.strerror or exc}: {exc.filename}")

    def _load_credentials(self, credentials: dict[str, Any]) -> None:
        cert = credentials.get("certdata") or ""
        key = credentials.get("keydata") or ""
        if bool(cert) != bool(key):
            self.valid = False
            self.error("No certificate/key file provided")
            return
        self.cert = cert.encode() if cert else None
        self.key = key.encode() if key else None
        ca = credentials.get("cadata") or ""
        self.ca = ca.encode() if ca else None

    def ssl_context(self) -> ssl.SSLContext:
        """Build a client SSL context with these certificates and verification setting."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self.valid and self.ca:
            context.load_verify_locations(cadata=self.ca.decode("ascii", errors="replace"))
        if self.valid and self.cert and self.key:
            _load_cert_chain(context, self.cert, self.key, self.passphrase)
        if not self.verify_server_cert:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.alpn_protocol:
            context.set_alpn_protocols([self.alpn_protocol])
        return context


def _read(path: str) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _load_cert_chain(context: ssl.SSLContext, cert: bytes, key: bytes, passphrase: str | None) -> None:
    # ssl only loads a certificate chain from files, so the PEM data goes through temporary files.
    with tempfile.TemporaryDirectory() as folder:
        cert_file = os.path.join(folder, "cert.pem")
        key_file = os.path.join(folder, "key.pem")
        with open(cert_file, "wb") as handle:
            handle.write(cert)
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
            handle.write(key)
        context.load_cert_chain(cert_file, key_file, password=passphrase)
