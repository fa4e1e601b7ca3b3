"""One place that turns a `model` config into a recurrent stack, scratch or PyTorch's.

Every kind shares one interface (time-major input `(num_steps, batch, features)`, state
shaped `(num_layers * num_directions, batch, num_hiddens)`, a `(H, C)` pair for LSTM; see
`rnnlab.models.state`), so the task models never ask which kind they hold. The values
were checked at start-up (`rnnlab.validation`); a combination no stack can honour is a
ValueError here.
"""

from torch import nn

from rnnlab.models.cells import CELLS
from rnnlab.models.nn_cells import nn_recurrent
from rnnlab.models.padded import PaddedRecurrent


def recurrent_stack(
    cell: str,
    impl: str,
    input_size: int,
    num_hiddens: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    bptt: str = "fused",
    recurrent_dropout: float = 0.0,
) -> nn.Module:
    """A stack of `num_layers` layers of `cell` ("rnn", "lstm", "gru", ...): the cell's
    equations (`impl="scratch"`) or PyTorch's fused module (`impl="nn"`). `bptt` ("fused"
    or "autograd") picks the scratch cells' backward. `recurrent_dropout` (Keras': one
    mask per sequence on the H fed back into the recurrence) exists for the scratch cells
    only: PyTorch's fused kernels cannot do it."""
    if impl == "scratch":
        return CELLS[cell](input_size, num_hiddens, num_layers, bidirectional, dropout, bptt,
                           recurrent_dropout)
    if impl != "nn":
        raise ValueError(f"impl must be 'nn' or 'scratch', got {impl!r}")
    if recurrent_dropout > 0:
        raise ValueError(f"PyTorch's nn.{cell.upper()} cannot drop out its recurrent state "
                         f"(recurrent_dropout={recurrent_dropout}): use impl='scratch'")
    return nn_recurrent(cell, input_size, num_hiddens, num_layers, bidirectional, dropout)


def build_recurrent(model_cfg, input_size: int, *, bidirectional: bool | None = None,
                    padded: bool = False) -> nn.Module:
    """The stack the `model` config group describes (cell, impl, sizes, dropouts, bptt),
    reading `input_size` features; `bidirectional` replaces the config's (a decoder is
    never bidirectional). With `padded`, the stack takes right-padded batches and a mask
    (`forward(X, mask=...)`): scratch cells hold their state at padded steps, and nn
    cells run as a `PaddedRecurrent`."""
    recurrent_dropout = model_cfg.get("recurrent_dropout", 0.0)  # absent from old configs
    args = (input_size, model_cfg.num_hiddens, model_cfg.num_layers,
            model_cfg.bidirectional if bidirectional is None else bidirectional,
            model_cfg.dropout)
    if padded and model_cfg.impl == "nn" and recurrent_dropout == 0:
        return PaddedRecurrent(model_cfg.cell, *args)
    return recurrent_stack(model_cfg.cell, model_cfg.impl, *args, model_cfg.get("bptt", "fused"),
                           recurrent_dropout)
