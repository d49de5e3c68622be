"""The one error type the command line turns into a message and an exit code."""


class UserError(Exception):
    """A one-line message for the person at the terminal, with the exit code to leave with:
    1 when the index or model cannot be used, 2 when the caller's input is wrong."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code
