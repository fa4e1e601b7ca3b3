"""The one exception type that means "the user's input is wrong", not "rnnlab is broken".

Entry points catch it and print its message as a single line (exit code 2) instead of a
traceback, so every message must name the bad value and what was expected.
"""


class RnnlabError(Exception):
    """A bad config value, missing or corrupt data, or an unusable checkpoint."""
