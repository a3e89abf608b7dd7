"""Who may call the server: an optional bearer token (gRPC metadata) and TLS.

Health checking stays open (load balancers probe it); every FaceCue call needs
``authorization: Bearer <token>`` when the server has a token.
"""
from __future__ import annotations

import hmac
from pathlib import Path

import grpc

from .errors import InvalidInput


class BearerTokenInterceptor(grpc.ServerInterceptor):
    def __init__(self, token: str, protected_prefix: str):
        self._expected = f"Bearer {token}".encode()
        self._prefix = protected_prefix

    def intercept_service(self, continuation, details):
        handler = continuation(details)
        if handler is None or not details.method.startswith(self._prefix):
            return handler
        given = dict(details.invocation_metadata).get("authorization", "")
        if hmac.compare_digest(given.encode(), self._expected):
            return handler
        return _refusal(handler, "missing or wrong bearer token" if given else "this server needs a bearer token")


def _refusal(handler, message: str):
    """A handler of the same shape as ``handler`` that answers UNAUTHENTICATED."""
    def refuse(request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    kind = {(False, False): grpc.unary_unary_rpc_method_handler, (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler, (True, True): grpc.stream_stream_rpc_method_handler}
    # No request deserializer: an unauthenticated upload is refused as raw bytes, never parsed.
    return kind[(handler.request_streaming, handler.response_streaming)](
        refuse, request_deserializer=None, response_serializer=handler.response_serializer)


def server_credentials(cert: Path, key: Path) -> grpc.ServerCredentials:
    for label, path in (("certificate", cert), ("key", key)):
        if not Path(path).is_file():
            raise InvalidInput(f"TLS {label} '{path}' does not exist")
    return grpc.ssl_server_credentials([(Path(key).read_bytes(), Path(cert).read_bytes())])


def read_token(value: str | None, warn=None) -> str | None:
    """A token given directly, or ``@file`` to read it from a file (kept out of process lists).
    ``warn`` is told when a token was given directly on a command line."""
    if not value:
        return None
    if not value.startswith("@") and warn is not None:
        warn("a token given on the command line is visible to every user of this machine in the process "
             "list; give --token @FILE or set FACECUE_TOKEN instead")
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise InvalidInput(f"token file '{path}' does not exist")
        value = path.read_text().strip()
    if len(value) < 16:
        raise InvalidInput("a bearer token should be at least 16 characters")
    return value
