"""The error types every layer raises; the CLI turns them into one line and an exit code."""


class CloudplaneError(Exception):
    """Base class. `exit_code` follows the house rule: 1 operation failed, 2 bad usage or input."""

    exit_code = 1


class InputError(CloudplaneError):
    """The user gave something we refuse before touching anything."""

    exit_code = 2


class NotFound(InputError):
    """A cloud (or other named thing) the user asked for does not exist."""


class Conflict(InputError):
    """The request clashes with existing state (a duplicate name, a cloud in the wrong state)."""


class OperationFailed(CloudplaneError):
    """The work was attempted and did not succeed."""
