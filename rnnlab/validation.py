"""Config checks that run before any work, so a bad value costs a second, not a sweep.

`validate(cfg)` checks every config value (sizes, rates, names, the model's cell and its
options, the tasks' own keys, trainer settings) and reports every problem it finds in
one line. A key is checked only when the config has it: tasks differ in their data and
model groups. Only what needs the data (such as a `num_steps` longer than the corpus) is
left to the task's constructor. `check_group_choices(argv)` catches `model=nope` before
Hydra composes, with one line instead of Hydra's multi-line report.
"""

import logging
import math
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.utils import get_class
from omegaconf import DictConfig

from rnnlab.config import CONF_DIR
from rnnlab.engine import PRECISIONS
from rnnlab.errors import RnnlabError
from rnnlab.models.cells import CELLS, IMPLEMENTATIONS
from rnnlab.models.scratch import BPTT_MODES
from rnnlab.schedules import SCHEDULERS

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "cuda:N")

# (key, whether null is allowed): integers >= 1
POSITIVE_INTS = [
    ("model.num_hiddens", False),
    ("model.num_layers", False),
    ("model.embed_size", True),
    ("data.batch_size", False),
    ("data.num_steps", False),
    ("trainer.max_epochs", False),
    ("trainer.log_every_n_steps", False),
    ("trainer.num_threads", True),
    ("trainer.early_stopping_patience", True),
    ("trainer.val_every_n_epochs", False),
    ("trainer.checkpoint_every_n_epochs", True),
    ("data.max_tokens", True),
    ("data.num_examples", True),
    ("data.held_out_examples", True),
    ("data.pool_batches", False),
    ("eval.beam_size", False),
    ("eval.bleu_k", False),
    ("eval.batch_size", False),
    ("scheduler.step_size", False),
    ("model.bag_buckets", False),
    ("model.bag_size", False),
    ("model.bag_min_count", False),
]
# integers >= 0
NATURAL_INTS = [
    "scheduler.warmup_steps",
    "scheduler.patience",
    "scheduler.nonmono",
    "eval.cache_size",
    "model.bag_ngrams",
]
# (key, test, what is expected): numbers
NUMBERS = [
    ("optim.lr", lambda x: x > 0, "a number > 0"),
    ("model.dropout", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("model.recurrent_dropout", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("model.embedding_dropout", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("model.input_dropout", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("model.output_dropout", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("model.weight_drop", lambda x: 0 <= x < 1, "a number in [0, 1)"),
    ("task.ar_alpha", lambda x: x >= 0, "a number >= 0 (0 turns AR off)"),
    ("task.tar_beta", lambda x: x >= 0, "a number >= 0 (0 turns TAR off)"),
    ("task.label_smoothing", lambda x: 0 <= x < 1, "a number in [0, 1) (0: hard labels)"),
    ("data.val_fraction", lambda x: 0 < x < 1, "a number in (0, 1)"),
    ("data.test_fraction", lambda x: 0 < x < 1, "a number in (0, 1)"),
    ("trainer.grad_clip", lambda x: x >= 0, "a number >= 0 (0 disables clipping)"),
    ("optim.weight_decay", lambda x: x >= 0, "a number >= 0"),
    ("scheduler.gamma", lambda x: 0 < x <= 1, "a number in (0, 1]"),
    ("scheduler.factor", lambda x: 0 < x < 1, "a number in (0, 1)"),
    ("scheduler.final_lr_fraction", lambda x: 0 <= x <= 1, "a number in [0, 1]"),
    ("scheduler.min_lr", lambda x: x >= 0, "a number >= 0"),
    ("eval.length_penalty", lambda x: x >= 0, "a number >= 0 (0: no length penalty)"),
    ("eval.dynamic_lr", lambda x: x >= 0, "a number >= 0 (0: no dynamic evaluation)"),
    ("eval.cache_theta", lambda x: x > 0, "a number > 0"),
    ("eval.cache_lambda", lambda x: 0 < x < 1, "a number in (0, 1)"),
]


def validate(cfg: DictConfig) -> None:
    """Raise one RnnlabError naming every bad generic value in `cfg`, or return."""
    problems = []
    for key, nullable in POSITIVE_INTS:
        problems += _check_int(cfg, key, nullable, lowest=1)
    for key in ["data.min_freq", *NATURAL_INTS]:
        problems += _check_int(cfg, key, False, lowest=0)
    problems += _check_int(cfg, "seed", False, lowest=None)
    for key, ok, expected in NUMBERS:
        problems += _check_number(cfg, key, ok, expected)
    problems += _check_names(cfg)
    problems += _check_model(cfg)
    problems += _check_awd_options(cfg)
    problems += _check_held_out(cfg)
    problems += _check_optimizer(cfg)
    problems += _check_trainer(cfg)
    if problems:
        raise RnnlabError("; ".join(problems))


def settle_unused_dropout(cfg: DictConfig) -> None:
    """Set model.dropout to 0, with one warning, where it would do nothing: it acts between
    stacked layers (as PyTorch's `dropout`), so a one-layer model of a task whose model
    drops out nowhere else trains without it. The run's config (its checkpoint, HParams and
    metrics) then records the dropout actually used."""
    from rnnlab.tasks import TASKS

    task = TASKS.get(_get(cfg, "task.name"))
    dropout, num_layers = _get(cfg, "model.dropout"), _get(cfg, "model.num_layers")
    if (
        task is None
        or not task.dropout_between_layers_only
        or num_layers != 1
        or not isinstance(dropout, int | float)
        or dropout == 0
    ):
        return
    log.warning(
        "model.dropout=%s has no effect with model.num_layers=1 (it acts between "
        "stacked layers): training with model.dropout=0, as recorded",
        dropout,
    )
    cfg.model.dropout = 0.0


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
                list(override.sweep_string_iterator())
                if override.is_sweep_override()
                else [override.value()]
            )
        except HydraException:  # glob(...) sweeps need Hydra's config loader
            continue
        for option in options:
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


_ABSENT = object()


def _get(cfg: DictConfig, key: str):
    """The value at dotted `key`, or _ABSENT when the config does not have it."""
    node = cfg
    for part in key.split("."):
        if not isinstance(node, DictConfig) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _check_int(cfg, key: str, nullable: bool, lowest: int | None) -> list[str]:
    value = _get(cfg, key)
    if value is _ABSENT or (nullable and value is None):
        return []
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (lowest is None or value >= lowest)
    ):
        return []
    expected = "an integer" if lowest is None else f"an integer >= {lowest}"
    return [f"{key}={value!r} is not {expected}" + (" or null" if nullable else "")]


def _check_number(cfg, key: str, ok, expected: str) -> list[str]:
    value = _get(cfg, key)
    if value is _ABSENT:
        return []
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and ok(value)
    ):
        return []
    return [f"{key}={value!r} is not {expected}"]


def _check_names(cfg) -> list[str]:
    from rnnlab.models.attention_decoders import ATTENTIONS
    from rnnlab.models.init import INITS
    from rnnlab.models.ngram_bag import WEIGHTINGS
    from rnnlab.tasks import TASKS  # here, not at the top: tasks import most of rnnlab

    problems = []
    for key, valid in (
        ("task.name", TASKS),
        ("model.cell", CELLS),
        ("model.impl", IMPLEMENTATIONS),
        ("model.bptt", BPTT_MODES),
        ("model.init", INITS),
        ("trainer.precision", PRECISIONS),
        ("scheduler.name", SCHEDULERS),
        ("model.attention", ATTENTIONS),
        ("model.bag_weighting", WEIGHTINGS),
    ):
        value = _get(cfg, key)
        if value is not _ABSENT and str(value) not in valid:
            problems.append(f"{key}={value!r} is not one of: {', '.join(valid)}")
    return problems


def _check_model(cfg) -> list[str]:
    """What the cell, its implementation and the task allow together."""
    from rnnlab.models.classifier import parse_pooling
    from rnnlab.tasks import TASKS

    cell, impl = _get(cfg, "model.cell"), _get(cfg, "model.impl")
    problems = []
    if impl == "nn" and cell in CELLS and CELLS[cell].nn_module is None:
        problems.append(f"model.cell={cell!r} has no PyTorch module: use model.impl=scratch")
    recurrent_dropout = _get(cfg, "model.recurrent_dropout")
    if impl == "nn" and isinstance(recurrent_dropout, int | float) and recurrent_dropout > 0:
        problems.append(
            f"model.recurrent_dropout={recurrent_dropout} needs a scratch cell (e.g. "
            f"model={cell}_scratch): PyTorch's fused nn.{str(cell).upper()} cannot drop out its "
            "recurrent state; or set model.recurrent_dropout=0"
        )
    task = TASKS.get(_get(cfg, "task.name"))
    if _get(cfg, "model.embed_size") is None and task is not None and not task.one_hot_input:
        problems.append(
            f"model.embed_size=None: task={task.name} embeds words; expected a "
            "positive int (e.g. 32)"
        )
    init = _get(cfg, "model.init")
    if init == "d2l" and task is not None and task.name != "lm":
        problems.append(
            f"model.init={init!r} is for task=lm (the d2l book's language "
            f"models); task={task.name}: expected model.init=default or keras"
        )
    if init == "keras" and task is not None and task.name not in ("lm", "sentiment"):
        problems.append(
            f"model.init={init!r} is for task=lm and task=sentiment; "
            f"task={task.name}: expected model.init=default"
        )
    embedding_init = _get(cfg, "model.embedding_init")
    if embedding_init not in (_ABSENT, None):
        problems += _check_number(
            cfg, "model.embedding_init", lambda x: x > 0, "a number > 0 or null"
        )
        if task is not None and task.name != "lm":
            problems.append(
                f"model.embedding_init={embedding_init!r} is for task=lm; "
                f"task={task.name} initialises its embedding as PyTorch does: "
                "expected null"
            )
    pooling = _get(cfg, "model.pooling")
    if pooling is not _ABSENT:
        try:
            parse_pooling(pooling)
        except RnnlabError as error:
            problems.append(str(error))
    return problems


def _check_awd_options(cfg) -> list[str]:
    """The switches of the AWD-LSTM tools, and what each needs of the model and task."""
    problems = []
    for key in ("model.locked_dropout", "model.residual", "model.tie_weights"):
        value = _get(cfg, key)
        if value is not _ABSENT and not isinstance(value, bool):
            problems.append(f"{key}={value!r} is not true or false")
    cell, layers = _get(cfg, "model.cell"), _get(cfg, "model.num_layers")
    forget_bias = _get(cfg, "model.forget_bias")
    if forget_bias not in (_ABSENT, None):
        problems += _check_number(cfg, "model.forget_bias", lambda x: True, "a number or null")
        if cell not in CELLS or not CELLS[cell].has_forget_gate:  # LSTM, minLSTM
            problems.append(
                f"model.forget_bias={forget_bias!r} is for LSTM cells (lstm, minlstm); "
                f"model.cell={cell!r} has no forget gate: expected null"
            )
    if _get(cfg, "model.residual") is True and isinstance(layers, int) and layers < 2:
        problems.append(
            f"model.residual=true joins stacked layers; model.num_layers={layers} "
            "has none to join: expected num_layers >= 2 or residual=false"
        )
    if _get(cfg, "model.tie_weights") is True:
        problems += _check_tying(cfg)
    return problems


def _check_tying(cfg) -> list[str]:
    task, embed = _get(cfg, "task.name"), _get(cfg, "model.embed_size")
    if task != "lm":
        return [
            f"model.tie_weights=true is for task=lm (input embedding = output layer); "
            f"task={task} has no such pair: expected tie_weights=false"
        ]
    hiddens, bidirectional = _get(cfg, "model.num_hiddens"), _get(cfg, "model.bidirectional")
    width = hiddens * (2 if bidirectional is True else 1) if isinstance(hiddens, int) else None
    if embed != width:
        return [
            f"model.tie_weights=true needs model.embed_size == the stack's output width "
            f"{width} (num_hiddens={hiddens}{' x 2 directions' if bidirectional else ''}),"
            f" got model.embed_size={embed}"
        ]
    return []


def _check_held_out(cfg) -> list[str]:
    val, test = _get(cfg, "data.val_fraction"), _get(cfg, "data.test_fraction")
    if isinstance(val, int | float) and isinstance(test, int | float) and val + test >= 1:
        return [
            f"data.val_fraction + data.test_fraction={val + test!r} is not less than 1 "
            "(training needs pairs)"
        ]
    return []


def _check_trainer(cfg) -> list[str]:
    device = _get(cfg, "trainer.device")
    if device is not _ABSENT and not _is_device(device):
        return [f"trainer.device={device!r} is not one of: {', '.join(DEVICES)}"]
    return []


def _check_optimizer(cfg) -> list[str]:
    import torch

    target = _get(cfg, "optim._target_")
    if target is _ABSENT:
        return []
    try:
        optimizer_class = get_class(str(target))
    except Exception:  # Hydra raises ImportError or ValueError, depending on what is missing
        optimizer_class = None
    if isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer):
        return []
    names = sorted(
        name
        for name, value in vars(torch.optim).items()
        if isinstance(value, type)
        and issubclass(value, torch.optim.Optimizer)
        and value is not torch.optim.Optimizer
    )
    return [
        f"optim._target_={target!r} is not a torch.optim.Optimizer; expected one of: "
        + ", ".join(f"torch.optim.{name}" for name in names)
    ]


def _is_device(name) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("cuda:"):
        return name.removeprefix("cuda:").isdigit()
    return name in ("auto", "cpu", "cuda")
