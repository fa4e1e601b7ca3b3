"""The run's config: Hydra composes conf/ on top of the components' schemas, and
`typed_config` checks the result against them once more.

Composition already types every value the YAML files and `key=value` overrides set (the
schemas are the first entries of conf/config.yaml's defaults list, picked by the task,
and each data, scheduler and trainer file starts from its own). `typed_config` adds what
composition cannot see: keys added with `+key=value`, the data source that does not serve
the task, every field's range check and each schema's rules between its fields. The same
function reads the config saved in a checkpoint, so an older run's missing keys take their
defaults and a bad one is refused in one line.
"""

import dataclasses
import difflib
import functools
import importlib
import inspect

import torch
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf

from rnnlab.config import CONF_DIR
from rnnlab.config.schema import ConfigError, seed_of, type_message, typed_section
from rnnlab.data import DATA_SOURCES
from rnnlab.engine import TrainerConfig
from rnnlab.schedules import OLD_NAMES, SCHEDULE_CONFIGS
from rnnlab.tasks import TASKS

SECTIONS = ("seed", "data", "model", "optim", "scheduler", "trainer", "task", "eval", "logger")


@functools.cache
def register_schemas() -> None:
    """Put every schema in Hydra's ConfigStore under `schema/<group>/<name>`, once per
    process (storing them all again costs ~20 ms, paid before every composition)."""
    store = ConfigStore.instance()
    for name, task in TASKS.items():
        store.store(group="schema/model", name=name, node=task.ModelConfig, package="model")
        store.store(group="schema/task", name=name, node=task.Config, package="task")
        store.store(group="schema/eval", name=name, node=task.EvalConfig, package="eval")
    for name, source in DATA_SOURCES.items():
        store.store(group="schema/data", name=name, node=source.Config, package="data")
    for target, schema in SCHEDULE_CONFIGS.items():
        name = target.rpartition(".")[2]
        store.store(group="schema/scheduler", name=name, node=schema, package="scheduler")
    store.store(group="schema/trainer", name="default", node=TrainerConfig, package="trainer")


def compose_config(overrides: list[str] = ()) -> DictConfig:
    """The typed config of `python -m rnnlab.train OVERRIDES` (no run directory), or one
    `ConfigError` line for a value or key that does not fit."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            return typed_config(compose(config_name="config", overrides=list(overrides)))
        except ConfigCompositionException as error:
            raise ConfigError(composition_message(error, list(overrides))) from None


def composition_message(error: Exception, job: list[str]) -> str:
    """Hydra's several-line report of a failed composition, in one line."""
    first = str(error).split("\n")[0]
    cause = error.__cause__
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        parent, _, name = key.rpartition(".")
        rest = [item for item in job if not item.lstrip("+~").startswith(key + "=")]
        try:
            node = compose(config_name="config", overrides=rest)
            keys = list(node[parent].keys()) if parent else list(node.keys())
        except Exception:
            keys = []
        near = difflib.get_close_matches(name, keys, n=1)
        hint = f" (did you mean {parent + '.' if parent else ''}{near[0]}?)" if near else ""
        listed = f"; its settings: {', '.join(keys)}" if keys else ""
        return f"{key} is not a setting{hint}{listed}"
    if cause is not None and getattr(cause, "full_key", None):
        return type_message(cause)
    return first


def choice(registry: dict, value, key: str, group: str):
    if not isinstance(value, str) or value not in registry:
        raise ConfigError(f"{key}={value!r} is not one of: {', '.join(registry)} ({group}=)")
    return registry[value]


def typed_config(cfg) -> DictConfig:
    """`cfg` (the composed config, or a checkpoint's saved one) with every section merged
    into its schema and checked; raises one `ConfigError` for the first section at fault."""
    # plain values (interpolations resolved), so no node brings its own flags to the merge
    plain = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    cfg = OmegaConf.create(plain)
    unknown = [key for key in cfg if key not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"{unknown[0]} is not a setting; the config's sections: {', '.join(SECTIONS)}"
        )
    task = choice(TASKS, OmegaConf.select(cfg, "task.name"), "task.name", "task")
    source = choice(DATA_SOURCES, OmegaConf.select(cfg, "data.name"), "data.name", "data")
    if source.task != task.name:
        serving = [name for name, other in DATA_SOURCES.items() if other.task == task.name]
        raise ConfigError(
            f"data={source.name} is data for task={source.task}, not task={task.name}: "
            f"expected data={' or data='.join(serving)} (or task={source.task})"
        )
    schedule = choice(
        SCHEDULE_CONFIGS,
        OmegaConf.select(cfg, "scheduler._target_"),
        "scheduler._target_",
        "scheduler",
    )
    typed = OmegaConf.create(
        {
            "seed": seed_of(OmegaConf.select(cfg, "seed")),
            "data": typed_section(source.Config, cfg.get("data"), "data", f"data={source.name}"),
            "model": typed_section(
                task.ModelConfig, cfg.get("model"), "model", f"task={task.name}'s model"
            ),
            "optim": checked_optimizer(cfg.get("optim")),
            "scheduler": typed_section(schedule, cfg.get("scheduler"), "scheduler"),
            "trainer": typed_section(TrainerConfig, cfg.get("trainer"), "trainer"),
            "task": typed_section(task.Config, cfg.get("task"), "task", f"task={task.name}"),
            "eval": typed_section(task.EvalConfig, cfg.get("eval"), "eval", f"task={task.name}"),
        }
    )
    if "logger" in cfg:
        typed.logger = cfg.logger
    OmegaConf.set_struct(typed, True)
    return typed


def resume_roles() -> dict[str, str]:
    """{dotted key: "must_match" | "warns" | "free"} from every schema's fields (a key's
    role is the same in every task that has it), what `rnnlab.run.resume` does with a
    setting that differs from the checkpoint's. Keys without a schema (the optimizer's
    settings, the seed) warn, but the optimizer itself must match; loggers are free."""
    sections = {
        "model": [task.ModelConfig for task in TASKS.values()],
        "task": [task.Config for task in TASKS.values()],
        "eval": [task.EvalConfig for task in TASKS.values()],
        "data": [source.Config for source in DATA_SOURCES.values()],
        "scheduler": list(SCHEDULE_CONFIGS.values()),
        "trainer": [TrainerConfig],
    }
    roles = {"optim._target_": "must_match"}
    for section, schemas in sections.items():
        for schema in schemas:
            for spec in dataclasses.fields(schema):
                role = spec.metadata.get("on_resume") or getattr(schema, "ON_RESUME", "warns")
                roles[f"{section}.{spec.name}"] = role
    return roles


def checked_optimizer(optim) -> DictConfig:
    """`optim` names a torch.optim.Optimizer by `_target_` and only settings its
    constructor takes (their values are the optimizer's to check: it raises ValueError)."""
    target = OmegaConf.select(optim, "_target_") if optim is not None else None
    module, _, name = str(target).rpartition(".")
    try:
        optimizer = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        optimizer = None
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        names = sorted(
            name
            for name, value in vars(torch.optim).items()
            if isinstance(value, type)
            and issubclass(value, torch.optim.Optimizer)
            and value is not torch.optim.Optimizer
        )
        raise ConfigError(
            f"optim._target_={target!r} is not a torch.optim.Optimizer; expected one of: "
            + ", ".join(f"torch.optim.{name}" for name in names)
        )
    lr = optim.get("lr")
    if lr is not None and not (isinstance(lr, int | float) and not isinstance(lr, bool) and lr > 0):
        raise ConfigError(f"optim.lr={lr!r} is not a number > 0")
    accepted = [name for name in inspect.signature(optimizer).parameters if name != "params"]
    for key in optim:
        if key != "_target_" and key not in accepted:
            raise ConfigError(
                f"optim.{key} is not a setting of {target}; its settings: {', '.join(accepted)}"
            )
    settings = {key: value for key, value in optim.items() if key != "_target_"}
    try:  # the optimizer's own checks of its values, on a stand-in parameter
        optimizer([torch.zeros(1, requires_grad=True)], **settings)
    except (ValueError, TypeError, RuntimeError) as error:
        raise ConfigError(f"optim ({target}): {str(error).splitlines()[0]}") from None
    return optim


# Keys that runs of other tasks carried while they were shared by every model config, at
# the value that did nothing there (they are the language model's alone now).
RETIRED_OUTSIDE_LM = {"tie_weights": False, "embedding_init": None}


def saved_config(config: dict, path) -> dict:
    """A checkpoint's saved config, typed as today's: keys added since take their defaults;
    one it cannot read is refused in one line that says why."""
    if not isinstance(config, dict):
        raise ConfigError(f"checkpoint {str(path)!r} holds no run config (got {config!r:.60})")
    config = {
        key: dict(value) if isinstance(value, dict) else value for key, value in config.items()
    }
    task = config.get("task")
    name = task.get("name") if isinstance(task, dict) else None
    # what runs older than a group's choice did: the one data source a task had, no schedule
    if name in TASKS and not (config.get("data") or {}).get("name"):
        bundled = next(source for source in DATA_SOURCES.values() if source.task == name)
        config["data"] = {**(config.get("data") or {}), "name": bundled.name}
    schedule = dict(config.get("scheduler") or {})
    if "_target_" not in schedule:  # named by scheduler.name, or none at all
        schedule["_target_"] = OLD_NAMES[schedule.pop("name", None) or "none"]
    length_setting = hasattr(SCHEDULE_CONFIGS.get(schedule["_target_"]), "total_epochs")
    if length_setting and schedule.get("total_epochs") is None:
        # runs older than the setting decayed over their trainer.max_epochs
        schedule["total_epochs"] = (config.get("trainer") or {}).get("max_epochs")
    config["scheduler"] = schedule
    if name != "lm" and isinstance(config.get("model"), dict):
        for key, inert in RETIRED_OUTSIDE_LM.items():
            if key in config["model"] and config["model"][key] == inert:
                del config["model"][key]
    try:
        return OmegaConf.to_container(typed_config(config))
    except ConfigError as error:
        raise ConfigError(
            f"checkpoint {str(path)!r} holds a config this rnnlab refuses: {error}"
        ) from None
