"""Where the configs are, and how a composed config becomes a checked, typed one.

`CONF_DIR` is the folder of Hydra's config groups. The repository keeps it at the top
(`conf/`); the wheel ships the same files inside the package as `rnnlab/conf/`
(pyproject.toml maps the package `rnnlab.conf` onto `conf/`), so an installed rnnlab
composes every preset from any working directory.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def _conf_dir() -> Path:
    """The installed copy (`rnnlab/conf/`, a wheel) or the checkout's (`conf/`, source
    and editable installs)."""
    for candidate in (_PACKAGE / "conf", _PACKAGE.parent / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"rnnlab's configs are neither in {_PACKAGE / 'conf'} nor beside it")


CONF_DIR: Path = _conf_dir()
