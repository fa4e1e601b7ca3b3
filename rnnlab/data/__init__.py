"""The data sources, one class each (`data=` in the config): its settings' schema
(`Config`), the task it serves and `load(config)`. A new source is a class with those
three and one entry below, plus its conf/data/<name>.yaml."""

from rnnlab.data.fra_eng import FraEng
from rnnlab.data.imdb import Imdb
from rnnlab.data.timemachine import TimeMachine

DATA_SOURCES = {source.name: source for source in (TimeMachine, FraEng, Imdb)}
