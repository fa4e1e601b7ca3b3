"""What the inference commands (generate, translate, predict, evaluate) share: `--help`,
`key=value` settings beside free-text inputs, inputs from a file or standard input, and
one-line errors.

    python -m rnnlab.translate checkpoint=best.pt "i'm home ." "go ."
    python -m rnnlab.translate checkpoint=best.pt file=sentences.txt   # one input per line
    cat reviews.txt | python -m rnnlab.predict checkpoint=best.pt -   # "-": standard input
"""

import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rnnlab.errors import RnnlabError

HELP_FLAGS = ("-h", "--help")
STDIN = "-"


def show_help_if_asked(argv: list[str], doc: str) -> None:
    """Print the command's docstring and exit 0 on -h / --help."""
    if any(arg in HELP_FLAGS for arg in argv):
        print(doc.strip())
        sys.exit(0)


def split_arguments(argv: list[str], config_class) -> tuple[list[str], list[str]]:
    """(settings, texts): `key=value` for a key of `config_class` is a setting, anything else
    an input text (a sentence, a review, a prefix)."""
    keys = {f.name for f in fields(config_class)}
    settings = [a for a in argv if "=" in a and a.partition("=")[0] in keys]
    return settings, [a for a in argv if a not in settings]


def parse_settings(config_class, settings: list[str], usage: str):
    """The settings as a `config_class` instance (an OmegaConf structured config); a missing
    or ill-typed value is a one-line RnnlabError naming it."""
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(config_class), OmegaConf.from_dotlist(settings))
        OmegaConf.to_container(cfg, throw_on_missing=True)
    except OmegaConfBaseException as error:
        raise RnnlabError(
            f"bad arguments: {str(error).splitlines()[0]} (expected {usage})"
        ) from None
    return cfg


def read_inputs(texts: list[str], file: str | None, what: str) -> list[str]:
    """The command line's texts, then, for `-`, the lines of standard input, and the lines
    of `file`; blank lines of a file or stdin are skipped, an empty text on the command
    line is refused (it is a mistake, such as an unset shell variable)."""
    inputs = []
    for position, text in enumerate(texts, start=1):
        if text == STDIN:
            inputs += [line for line in sys.stdin.read().splitlines() if line.strip()]
        elif not text.strip():
            raise RnnlabError(
                f"{what} {position} on the command line is empty ({text!r}); expected some text"
            )
        else:
            inputs.append(text)
    if file:
        inputs += [line for line in read_text(file).splitlines() if line.strip()]
    return inputs


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RnnlabError(
            f"file={path!r} does not exist (expected a text file, one input per line)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RnnlabError(
            f"file={path!r} cannot be read as UTF-8 text: {type(error).__name__}"
        ) from None


def run_command(body: Callable[[list[str]], None], argv: list[str] | None, doc: str) -> None:
    """Run `body(argv)` as a command: --help, and an RnnlabError as one `error:` line with
    exit status 2."""
    argv = sys.argv[1:] if argv is None else argv
    show_help_if_asked(argv, doc)
    try:
        body(argv)
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
