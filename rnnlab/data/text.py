"""Any text for the language model (`data=text data.path=...`): a file, a folder (its
files, recursively) or a glob, the files read in sorted order and run together.

The held-out part is the last `val_fraction` of the tokens, or a text of its own
(`val_path`); `test_path` adds a test split. The vocabulary is the training part's only,
so a token that never occurs there reads as `<unk>` in the held-out parts, as it would in
a text the model has never seen. Cleaning and tokens are the book's
(rnnlab/data/timemachine.py): `preprocess=raw` keeps the text as it is.

Every problem with the files is one line naming the file (and the line, for a byte that
is not in the encoding). `check` runs on the command line before Hydra makes the run
directory, so bad data leaves nothing behind.
"""

import codecs
import glob
from dataclasses import dataclass
from pathlib import Path

from rnnlab.config.schema import Check, one_of, setting
from rnnlab.data.sampling import check_fits
from rnnlab.data.timemachine import (
    LMCorpus,
    LMDataConfig,
    split_end,
    text_tokens,
    token_ids,
)
from rnnlab.data.vocab import Vocab
from rnnlab.errors import RnnlabError


def _is_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


ENCODING = Check(_is_codec, "a text encoding Python knows (utf-8, latin-1, cp1252, ...)")


@dataclass
class TextConfig(LMDataConfig):
    """data=text: a user's text (file, folder or glob), its held-out part and test text."""

    name: str = setting("text", one_of(["text"]), on_resume="must_match")
    path: str | None = setting(None)  # the training text: a file, a folder or a glob
    val_path: str | None = setting(None)  # held-out text; null: the last val_fraction
    test_path: str | None = setting(None)  # a test text, scored once on the best weights
    encoding: str = setting("utf-8", ENCODING)  # how the files' bytes are read

    def check(self) -> list[str]:
        if not self.path:
            return ["path=null: expected the text to train on (a file, a folder or a glob)"]
        return []


def text_files(path: str, key: str) -> list[Path]:
    """The files `path` names, in sorted order: itself, a folder's files (recursively,
    hidden ones left out) or a glob's matches. `key` names the setting in errors."""
    given = Path(path).expanduser()
    if given.is_file():
        return [given]
    if given.is_dir():
        files = sorted(
            found
            for found in given.rglob("*")
            if found.is_file() and not any(part.startswith(".") for part in found.parts)
        )
        if not files:
            raise RnnlabError(f"{key}={path!r} is a folder without files; expected text files")
        return files
    if glob.has_magic(path):
        matches = sorted(Path(found) for found in glob.glob(str(given), recursive=True))
        folders = [found for found in matches if found.is_dir()]
        if folders:
            raise RnnlabError(
                f"{key}={path!r} matches the folder {str(folders[0])!r}; expected files only "
                "(a folder as the path reads all its files)"
            )
        if not matches:
            raise RnnlabError(f"{key}={path!r} matches no files; expected text files")
        return matches
    if given.exists():
        raise RnnlabError(f"{key}={path!r} is not a regular file; expected a text file")
    raise RnnlabError(f"{key}={path!r} does not exist; expected a file, a folder or a glob")


def read_file(path: Path, encoding: str) -> str:
    """The file's text; a byte not in `encoding` is one line naming the file and line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RnnlabError(f"{path} cannot be read: {error.strerror or error}") from None
    try:
        return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RnnlabError(
            f"{path} line {line} is not {encoding} text (byte {error.start}: "
            f"{data[error.start : error.start + 1]!r}); expected {encoding} text: set "
            "data.encoding to the file's encoding (e.g. data.encoding=latin-1), or leave "
            "the file out of data.path (a glob)"
        ) from None


def read_text(path: str, key: str, encoding: str) -> str:
    """The files of `path` (`text_files`) run together, a newline after each that lacks
    one so that a word never runs into the next file's first."""
    files = text_files(path, key)
    texts = [read_file(file, encoding) for file in files]
    if not any(texts):
        files_named = f" (its {len(files)} files)" if len(files) > 1 else ""
        raise RnnlabError(f"{key}={path!r}{files_named} is empty; expected text")
    joined = [text if text.endswith("\n") else text + "\n" for text in texts[:-1]]
    return "".join(joined) + texts[-1]


def load_text(data: TextConfig) -> LMCorpus:
    """The corpus `data` describes: the vocabulary from the training part only, every
    split checked to hold enough tokens (training: one batch; held out: two tokens)."""
    source = f"data.path={data.path!r}"
    train = _tokens(data, "path")
    if data.val_path is None:
        train, val = split_end(train, data.val_fraction, source, data.token)
    try:
        check_fits(len(train), data.batch_size, data.num_steps)
    except RnnlabError as error:
        raise RnnlabError(f"{source}: {error}") from None
    if data.val_path is None:
        _check_scorable(
            val, f"the held-out end of {source} (val_fraction={data.val_fraction})", data
        )
    else:
        val = _check_scorable(_tokens(data, "val_path"), f"data.val_path={data.val_path!r}", data)
    test = None
    if data.test_path is not None:
        test = _check_scorable(
            _tokens(data, "test_path"), f"data.test_path={data.test_path!r}", data
        )
    vocab = Vocab(train, min_freq=data.min_freq)
    return LMCorpus(
        vocab=vocab,
        train=token_ids(vocab, train),
        val=token_ids(vocab, val),
        test=None if test is None else token_ids(vocab, test),
    )


def _tokens(data: TextConfig, key: str) -> list[str]:
    """The tokens of the text that `data.<key>` names."""
    path, name = getattr(data, key), f"data.{key}"
    return text_tokens(
        read_text(path, name, data.encoding), data.token, data.preprocess, f"{name}={path!r}"
    )


def _check_scorable(tokens: list[str], source: str, data: TextConfig) -> list[str]:
    """`tokens` if a held-out text has a token to predict from another, else one line."""
    if len(tokens) < 2:
        raise RnnlabError(
            f"{source} has {len(tokens)} {data.token} token; expected at least 2 to score"
        )
    return tokens


class Text:
    """The `data=text` source: a user's own text, for the language model."""

    name, task, Config = "text", "lm", TextConfig

    @staticmethod
    def load(data: TextConfig) -> LMCorpus:
        return load_text(data)

    @staticmethod
    def check(data: TextConfig) -> None:
        """Read the files as training will, before the run directory exists."""
        load_text(data)
