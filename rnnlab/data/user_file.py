"""A user's own data file, read once and refused in one line when it cannot be used: a
missing file, a folder, an empty file, bytes that are not UTF-8 (with the line they are
on). The sources that read such files (`data=pairs`, `data=labelled`) parse the text
and name the line of any record that does not fit; their `check` runs that parse before
the run directory exists (`rnnlab.data.check_data`), so a bad file leaves nothing
behind."""

from pathlib import Path

from rnnlab.errors import RnnlabError


def read_user_file(path: str | None, key: str = "data.path", expected: str = "a text file") -> str:
    """The file's text (UTF-8, a leading byte-order mark dropped); `key` names the setting
    in the messages and `expected` what the file should hold."""
    if not path:
        raise RnnlabError(f"{key} is not set; expected the path of {expected}")
    file = Path(path).expanduser()
    if file.is_dir():
        raise RnnlabError(f"{key}={path!r} is a directory; expected {expected}")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise RnnlabError(f"{key}={path!r} does not exist; expected {expected}") from None
    except OSError as error:
        raise RnnlabError(f"{key}={path!r} cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise RnnlabError(f"{key}={path!r} is empty; expected {expected}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RnnlabError(
            f"{key}={path!r} line {line} is not UTF-8 (byte {error.start}: "
            f"{data[error.start : error.start + 1]!r}); save the file as UTF-8"
        ) from None


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines that are not blank."""
    return [
        (number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]


def check_at_least_one_batch(num_examples: int, batch_size: int, path: str, what: str) -> None:
    if num_examples < batch_size:
        raise RnnlabError(
            f"data.path={path!r} has {num_examples} {what}, fewer than one batch "
            f"(data.batch_size={batch_size}); add {what} or lower data.batch_size"
        )
