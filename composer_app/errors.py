"""Exceptions shared across the package.

``BadInputError`` marks a problem with what the user gave us (a file, an argument): the command
line prints its message as one line and exits with code 2; the GUI shows it and loses nothing.
"""


class BadInputError(Exception):
    """The user's input cannot be used; the message says why in one line."""
