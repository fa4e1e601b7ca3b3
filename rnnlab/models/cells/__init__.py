"""The registry of recurrent cells: `model.cell` → the cell's scratch layer class.

Each module in this folder is one cell: a `ScratchRecurrent` subclass whose `cell_step`
is the gate equations, with what rnnlab needs to know of the cell as class attributes:
`name` (the `model.cell` value), `num_gates`, `num_state_tensors` (2 for LSTM's (H, C)),
`nn_module` (PyTorch's fused module for `model.impl=nn`, or None) and, if it has one,
`fused_direction` (the hand-written backward through time). A new cell is a new module
here and its conf/model/<name>_scratch.yaml: the registry finds the module.
"""

import importlib
import pkgutil

from rnnlab.models.scratch import ScratchRecurrent


def _discover() -> dict[str, type[ScratchRecurrent]]:
    cells = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, ScratchRecurrent)
                and value.__module__ == module.__name__
            ):
                cells[value.name] = value
    return dict(sorted(cells.items()))


CELLS: dict[str, type[ScratchRecurrent]] = _discover()
IMPLEMENTATIONS = ("nn", "scratch")  # model.impl: PyTorch's fused module, or the equations
