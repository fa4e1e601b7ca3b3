"""The data sources, one class each (`data=` in the config): its settings' schema
(`Config`), the task it serves and `load(config)`. A new source is a class with those
three and one entry below, plus its conf/data/<name>.yaml. A source that reads a user's
file (`data.path`) also has `check_file(config)`, which the command line runs before a
run directory is made (rnnlab/data/user_file.py)."""

from rnnlab.data.fra_eng import FraEng
from rnnlab.data.imdb import Imdb
from rnnlab.data.labelled import Labelled
from rnnlab.data.pairs import Pairs
from rnnlab.data.timemachine import TimeMachine

DATA_SOURCES = {source.name: source for source in (TimeMachine, FraEng, Imdb, Pairs, Labelled)}
