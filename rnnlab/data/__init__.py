"""The data sources, one class each (`data=` in the config): its settings' schema
(`Config`), the task it serves and `load(config)`. A new source is a class with those
three and one entry below, plus its conf/data/<name>.yaml. A source that reads the user's
files also has `check(config)`, which `check_data` runs on the command line before Hydra
makes the run directory, so bad data is one line and leaves nothing behind."""

from rnnlab.data.fra_eng import FraEng
from rnnlab.data.imdb import Imdb
from rnnlab.data.labelled import Labelled
from rnnlab.data.pairs import Pairs
from rnnlab.data.text import Text
from rnnlab.data.timemachine import TimeMachine

DATA_SOURCES = {
    source.name: source for source in (TimeMachine, Text, FraEng, Imdb, Pairs, Labelled)
}


def check_data(data) -> None:
    """Run the `check` of the source `data.name` names, if it has one (raises RnnlabError)."""
    check = getattr(DATA_SOURCES[data.name], "check", None)
    if check is not None:
        check(data)
