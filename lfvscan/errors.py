"""Exception types shared by the CLI and the library."""


class UsageError(ValueError):
    """Bad user input (value, file, config).  The CLI prints it as one line and exits 2."""
