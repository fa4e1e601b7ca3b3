"""The one check made on the command line before Hydra composes: a `group=option` naming
an option the group does not have gets one line listing those it has, instead of Hydra's
several-line report."""

import os
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from rnnlab.config import CONF_DIR
from rnnlab.errors import RnnlabError


def check_group_choices(argv: list[str], conf_dir: Path = CONF_DIR) -> None:
    """Refuse `group=option` overrides (sweeps included) naming an option that `conf/group/`
    does not have (`options_of`), listing the ones it has. Anything this cannot judge
    (Hydra's own groups, extra config dirs, syntax errors) is left to Hydra."""
    if any(arg.split("=")[0] in ("--config-dir", "-cd", "--config-path", "-cp") for arg in argv):
        return
    try:
        overrides = OverridesParser.create().parse_overrides(
            [arg for arg in argv if not arg.startswith("-")]
        )
    except HydraException:
        return
    for override in overrides:
        group = conf_dir / override.key_or_group
        if (
            override.is_delete()
            or override.package
            or not group.is_dir()
            or override.key_or_group.startswith("hydra/")
        ):  # plugins add options there
            continue
        valid = options_of(group)
        try:
            options = (
                list(override.sweep_iterator())
                if override.is_sweep_override()
                else [override.value()]
            )
        except HydraException:  # glob(...) sweeps need Hydra's config loader
            continue
        # a list selects several options of one group (logger=[tensorboard,csv])
        flat = [
            item
            for option in options
            for item in (option if isinstance(option, list) else [option])
        ]
        for option in flat:
            if isinstance(option, str) and option not in valid:
                name = override.key_or_group
                raise RnnlabError(
                    f"{name}={option!r} is not one of: {', '.join(valid)} "
                    f"(the files in conf/{name}/)"
                )


def options_of(group: Path) -> list[str]:
    """The choices of a config group: its YAML files, less those named `_*` (what the
    choices share, such as conf/model/_base.yaml)."""
    return sorted(path.stem for path in group.glob("*.yaml") if not path.stem.startswith("_"))


MAX_CHECKED_JOBS = 256  # a larger sweep has its first jobs checked here, the rest by Hydra


def check_composes(argv: list[str]) -> list:
    """Compose the config of each job the command line asks for (every combination of a
    command-line sweep, up to MAX_CHECKED_JOBS) and type-check it, so that a bad value or
    an unknown key is one line before any job starts; returns the typed configs. Anything
    this cannot judge (Hydra's own flags, extended sweep syntax) is left to Hydra."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    from rnnlab.config.run_config import compose_config

    if any(arg.startswith("-") and arg not in ("-m", "--multirun") for arg in argv):
        return []  # --cfg, --help, --config-dir, ...: Hydra's
    arguments = [arg for arg in argv if not arg.startswith("-")]
    try:
        overrides = OverridesParser.create().parse_overrides(arguments)
        jobs = BasicSweeper.split_arguments(overrides, None)[0]
        if "-m" in argv or "--multirun" in argv:  # a preset's sweep joins the command line's
            given = {override.key_or_group for override in overrides}
            params = preset_sweep(jobs[0])
            swept = [f"{key}={value}" for key, value in params.items() if key not in given]
            overrides = OverridesParser.create().parse_overrides(arguments + swept)
            jobs = BasicSweeper.split_arguments(overrides, None)[0]
    except HydraException:
        return []
    return [
        compose_config([item for item in job if not item.startswith("hydra.")])
        for job in jobs[:MAX_CHECKED_JOBS]
    ]


def check_run_dir(argv: list[str]) -> None:
    """The run (or sweep) directory can be made and written, before Hydra makes it: a path
    that is a file, or a folder that cannot be written (a read-only filesystem, no
    permission), is one line here rather than Hydra's traceback. The part of the path
    before its first `${...}` is what is checked (conf/config.yaml's default: outputs/)."""
    if any(arg.startswith("-") and arg not in ("-m", "--multirun") for arg in argv):
        return  # --help, --cfg, ...: Hydra's, and they write no run
    multirun = "-m" in argv or "--multirun" in argv
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = [arg.partition("=")[2] for arg in argv if arg.partition("=")[0] == key]
    setting = f"{key}={given[-1]!r}" if given else f"the default {key}"
    existing = Path(given[-1].partition("${")[0] if given else "outputs").absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the nearest part that exists is where the folder is made
    if existing.exists() and not existing.is_dir():
        raise RnnlabError(f"{setting}: {str(existing)!r} is a file; expected a folder to write to")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RnnlabError(
            f"{setting}: {str(existing)!r} cannot be written (a read-only filesystem or no "
            "permission); expected a folder to write the run to"
        )


def check_jobs_data(configs: list) -> None:
    """The data checks (`rnnlab.data.check_data`: the user's files read as training will)
    of each distinct data section among the jobs' configs, before any run directory."""
    from omegaconf import OmegaConf

    from rnnlab.data import check_data

    seen = []
    for cfg in configs:
        data = OmegaConf.to_container(cfg.data)
        if data not in seen:
            seen.append(data)
            check_data(cfg.data)


def preset_sweep(job: list[str]) -> dict[str, str]:
    """`hydra.sweeper.params` of the config `job` composes (a preset's grid, such as
    ablation_mingru's `model: mingru`), as Hydra's sweeper adds them to the command line's;
    {} where the job does not compose (its own check then says why)."""
    from hydra import compose, initialize_config_dir

    from rnnlab.config.run_config import register_schemas

    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            config = compose(config_name="config", overrides=job, return_hydra_config=True)
        except Exception:
            return {}
    params = config.hydra.sweeper.get("params") or {}
    return {str(key): str(value) for key, value in params.items()}


def presets() -> list[tuple[str, str]]:
    """(name, its one-line description) of each `experiment=` preset, less the private
    `_*` files: the first comment line after the package header."""
    found = []
    for name in options_of(CONF_DIR / "experiment"):
        lines = (CONF_DIR / "experiment" / f"{name}.yaml").read_text().splitlines()
        comments = [line[1:].strip() for line in lines if line.startswith("#")]
        found.append((name, next((c for c in comments if not c.startswith("@package")), "")))
    return found


def print_presets() -> None:
    width = max(len(name) for name, _ in presets())
    print("experiment=NAME presets (rnnlab-train experiment=NAME; their files: conf/experiment/):")
    for name, description in presets():
        print(f"  {name:<{width}}  {description}")


def with_saved_overrides(argv: list[str]) -> list[str]:
    """`rnnlab-train hydra.run.dir=DIR trainer.resume=true` continues the run as it was
    launched: DIR's saved overrides (`.hydra/overrides.yaml`) come first, and the command
    line's own after them, so a key given again wins (and one that changes the model is
    refused by the resume check). The same for a multirun, `-m hydra.sweep.dir=DIR
    trainer.resume=true`: the sweep's overrides (`DIR/multirun.yaml`, its sweeps included,
    and Hydra's own such as the launcher) come first, so every job of the sweep continues
    in its own directory (a key that names those directories cannot be given again: the
    jobs would start anew elsewhere). A directory without a record is left as it is."""
    from omegaconf import OmegaConf

    def key(override: str) -> str:
        return override.lstrip("+~").partition("=")[0]

    if "trainer.resume=true" not in argv:
        return argv
    multirun = "-m" in argv or "--multirun" in argv
    option = "hydra.sweep.dir=" if multirun else "hydra.run.dir="
    dirs = [_value(arg) for arg in argv if arg.startswith(option)]
    if not dirs:
        return argv
    given = {key(arg) for arg in argv}
    if multirun:
        record = Path(dirs[-1]) / "multirun.yaml"
        if not record.is_file():
            return argv
        hydra = OmegaConf.load(record).hydra
        overrides = hydra.overrides
        unnamed = set(OmegaConf.select(hydra, "job.config.override_dirname.exclude_keys") or [])
        naming = [arg for arg in argv if "=" in arg and not key(arg).startswith("hydra")]
        naming = [arg for arg in naming if key(arg) not in unnamed]
        if naming:  # the job directories' names hold their overrides: it would start anew
            raise RnnlabError(
                f"{naming[0]} would give the jobs of the sweep in {dirs[-1]} new directories; "
                "resume a sweep with its own overrides (only "
                f"{', '.join(sorted(unnamed))} may be given), or continue one job with "
                "hydra.run.dir=<its directory> trainer.resume=true"
            )
        saved = [str(item) for item in overrides.task] + [
            str(item)
            for item in overrides.hydra
            if key(str(item)) not in ("hydra.sweep.dir", "hydra.run.dir", "hydra.mode")
        ]
    else:
        record = Path(dirs[-1]) / ".hydra" / "overrides.yaml"
        if not record.is_file():
            return argv
        saved = [str(item) for item in OmegaConf.load(record)]
    first = next(i for i, arg in enumerate(argv) if not arg.startswith("-"))  # after -m
    return argv[:first] + [item for item in saved if key(item) not in given] + argv[first:]


def _value(override: str) -> str:
    """The value of a `key=value` override as Hydra reads it (quotes removed)."""
    try:
        return str(OverridesParser.create().parse_override(override).value())
    except HydraException:
        return override.partition("=")[2]
