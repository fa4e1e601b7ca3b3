"""What the inference commands (generate, translate, predict, evaluate) share: `--help`,
`key=value` settings beside free-text inputs, inputs from a file or standard input, and
one-line errors.

    python -m rnnlab.translate checkpoint=best.pt "i'm home ." "go ."
    python -m rnnlab.translate checkpoint=best.pt file=sentences.txt   # one input per line
    cat reviews.txt | python -m rnnlab.predict checkpoint=best.pt -   # "-": standard input
"""

import difflib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import torch
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rnnlab.errors import RnnlabError
from rnnlab.run import threads

HELP_FLAGS = ("-h", "--help")
STDIN = "-"


def show_help_if_asked(argv: list[str], doc: str) -> None:
    """Print the command's docstring and exit 0 on -h / --help."""
    if any(arg in HELP_FLAGS for arg in argv):
        print(doc.strip())
        sys.exit(0)


SETTING = re.compile(r"-{0,2}[A-Za-z_][\w.]*=")  # what a key=value (or --key=value) looks like
END_OF_SETTINGS = "--"  # what follows is input text, even if it looks like key=value


def split_arguments(
    argv: list[str], config_class, strict: bool = True
) -> tuple[list[str], list[str]]:
    """(settings, texts): `key=value` for a key of `config_class` is a setting, anything else
    an input text (a sentence, a review, a prefix); after `--` everything is a text. With
    `strict`, an argument that looks like a setting but names no key of `config_class`
    (`num_pred=5`, `--num_preds=5`) is a one-line RnnlabError naming the nearest key, so
    a misspelt setting is never read as an input."""
    keys = [f.name for f in fields(config_class)]
    head, tail = argv, []
    if END_OF_SETTINGS in argv:
        cut = argv.index(END_OF_SETTINGS)
        head, tail = argv[:cut], argv[cut + 1 :]
    settings = [a for a in head if "=" in a and a.partition("=")[0] in keys]
    texts = [a for a in head if a not in settings]
    if strict:
        for text in texts:
            if SETTING.match(text) or (text.startswith("-") and text != STDIN):
                key = text.lstrip("-").partition("=")[0]
                near = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {near[0]}? " if near else ""
                raise RnnlabError(
                    f"{text!r} is not a setting ({hint}settings: {', '.join(keys)}); an "
                    f"input that looks like one goes after {END_OF_SETTINGS}"
                )
    return settings, texts + tail


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
    except IsADirectoryError:
        raise RnnlabError(f"file={path!r} is a folder; expected a text file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RnnlabError(
            f"file={path!r} cannot be read as UTF-8 text: {type(error).__name__}"
        ) from None


def run_command(body: Callable[[list[str]], None], argv: list[str] | None, doc: str) -> None:
    """Run `body(argv)` as a command: --help, and an RnnlabError as one `error:` line with
    exit status 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        show_help_if_asked(argv, doc)
        # the free cores, as training chooses them: a busy core would slow a tool 10-75x
        torch.set_num_threads(threads.default_threads(torch.get_num_threads()))
        body(argv)
        sys.stdout.flush()
    except RnnlabError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # `| head` closed the pipe: the reader has what it wanted
        try:  # and Python's own flush at exit must not report it either
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no real file behind stdout (a test's capture)
            pass
        sys.exit(0)
