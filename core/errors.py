"""The one exception type for mistakes a user can fix (bad file, bad flag, unknown name)."""


class UserError(Exception):
    """A problem the user can fix; the CLI prints its message on one line and exits 2, the UI shows it."""
