"""What a run prints before its first epoch (`trainer.summary`, on by default): the model's
parameters per module and the resolved config, one line per config group, so a log says
what was trained without opening `.hydra/config.yaml`.
"""

import logging

from torch import nn

from rnnlab.run.flatten import flatten_config

log = logging.getLogger(__name__)


def model_overview(model: nn.Module) -> list[str]:
    """ "model RNNLM: 207,128 parameters" and one line per top-level module: name, class,
    parameters (what a reader compares across sizes and cells), and how a minimal cell's
    stack runs its window (`mode=parallel`: the config's null resolved)."""
    lines = [f"model {type(model).__name__}: {count_parameters(model):,} parameters"]
    children = list(model.named_children())
    width = max((len(name) for name, _ in children), default=0)
    kinds = max((len(type(child).__name__) for _, child in children), default=0)
    for name, child in children:
        modes = sorted(
            {m.mode for m in child.modules() if isinstance(getattr(m, "mode", None), str)}
        )
        line = f"  {name:<{width}}  {type(child).__name__:<{kinds}}  {count_parameters(child):>12,}"
        lines.append(line + "".join(f"  mode={mode}" for mode in modes))
    return lines


def config_overview(config: dict) -> list[str]:
    """The resolved config, one line per top-level group ("model  cell=lstm impl=nn ...");
    top-level values (the seed) share one line."""
    scalars = {key: value for key, value in config.items() if not isinstance(value, dict)}
    groups = {key: value for key, value in config.items() if isinstance(value, dict)}
    width = max((len(key) for key in groups), default=0)
    lines = ["config"]
    if scalars:
        lines.append("  " + " ".join(f"{key}={value}" for key, value in scalars.items()))
    for key, group in groups.items():
        values = " ".join(f"{name}={value}" for name, value in flatten_config(group).items())
        lines.append(f"  {key:<{width}}  {values}")
    return lines


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def log_overview(model: nn.Module, config: dict) -> None:
    """Log the model's and the config's overview as one block."""
    log.info(
        "\n".join(
            [
                "run overview (trainer.summary=false to silence):",
                *model_overview(model),
                *config_overview(config),
            ]
        )
    )
