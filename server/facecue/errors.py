"""Errors a user can act on. Each maps to one gRPC status code and one CLI line."""
from __future__ import annotations


class FaceCueError(Exception):
    """Base class: the message is shown to the user as it is."""

    grpc_code = "INTERNAL"


class InvalidInput(FaceCueError):
    """The request cannot be served as given (no face, unreadable audio, bad parameter)."""

    grpc_code = "INVALID_ARGUMENT"


class LimitExceeded(FaceCueError):
    """The request is valid but over a configured limit (audio length, size)."""

    grpc_code = "RESOURCE_EXHAUSTED"


class OutputExists(FaceCueError):
    """The output location is taken and overwriting was not asked for."""

    grpc_code = "ALREADY_EXISTS"


class FolderBusy(FaceCueError):
    """Another run owns the output folder."""

    grpc_code = "FAILED_PRECONDITION"


class Unavailable(FaceCueError):
    """A service the request needs does not answer (a Ray cluster that is not running)."""

    grpc_code = "UNAVAILABLE"


class NotFound(FaceCueError):
    grpc_code = "NOT_FOUND"


class PermissionDenied(FaceCueError):
    grpc_code = "PERMISSION_DENIED"


class Cancelled(FaceCueError):
    grpc_code = "CANCELLED"


class TimedOut(FaceCueError):
    """A job ran past its deadline (the client's, or the server's longest job time)."""

    grpc_code = "DEADLINE_EXCEEDED"


class CorruptTake(FaceCueError):
    """A take directory is incomplete or its arrays do not match the manifest."""

    grpc_code = "DATA_LOSS"

