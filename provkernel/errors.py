"""Exceptions shared by the command line and the magics."""


class UsageError(Exception):
    """Bad input from the user: reported as one line that says what to do, never as a traceback."""
