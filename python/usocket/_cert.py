"""The dict form of a certificate, as CPython's getpeercert() gives it,
for ussl's SSLSocket.getpeercert(): decoded by CPython's own _ssl."""
import os
import tempfile


def decode(der):
    """The dict for a DER certificate (subject, issuer, notBefore,
    notAfter, subjectAltName, ...)."""
    import _ssl
    import ssl

    pem = ssl.DER_cert_to_PEM_cert(der)
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        return _ssl._test_decode_cert(path)
    finally:
        os.unlink(path)
