"""Errors a user can fix, shown by the CLI as one line instead of a traceback."""


class UserFacingError(RuntimeError):
    """Input the user can fix: a bad file, an incompatible run, a missing device or server."""
