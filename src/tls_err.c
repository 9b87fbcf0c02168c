/* tls_err.c: the messages of the TLS errors (built with or without an
 * engine, since us_strerror names them either way). */
#include "core.h"

static const char *const messages[] = {
    "TLS protocol error (the peer does not speak TLS, or broke it)",
    "TLS alert from the peer (it refused the handshake or our certificate)",
    "TLS certificate not trusted (load its CA, or verify none)",
    "TLS certificate expired or not yet valid",
    "TLS certificate is for another host name",
    "TLS certificate verification failed",
    "TLS peer sent no certificate, and one is required",
    "TLS peer closed the connection without close_notify (truncated)",
    "TLS certificate data not understood (PEM or DER expected)",
    "TLS private key data not understood (PEM or DER expected)",
    "TLS private key does not match the certificate",
    "TLS cipher list names no cipher the engine knows",
    "TLS client needs a server host name to verify (or verify none)",
    "TLS server has no certificate (load a certificate chain and key)",
    "TLS engine failure",
};

const char *us__tls_strerror(int err) {
  if (err >= US_TLS_BASE || err < US_TLS_ERR_LAST)
    return 0;
  return messages[US_TLS_BASE - err - 1];
}

_Static_assert(sizeof messages / sizeof messages[0] ==
                   (size_t)(US_TLS_BASE - US_TLS_ERR_LAST),
               "one message per TLS error");
