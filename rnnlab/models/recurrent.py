"""One place that turns a `model` config into a recurrent stack, scratch or PyTorch's.

Every kind shares one interface (time-major input `(num_steps, batch, features)`, state
shaped `(num_layers * num_directions, batch, num_hiddens)`, a `(H, C)` pair for LSTM; see
`rnnlab.models.state`), so the task models never ask which kind they hold. The values
were checked at start-up (`rnnlab.validation`); a combination no stack can honour is a
ValueError here.
"""

import torch
from torch import nn

from rnnlab.models.cells import CELLS
from rnnlab.models.layered import LayeredRecurrent
from rnnlab.models.min_blocks import PaperBlocks
from rnnlab.models.nn_cells import nn_recurrent
from rnnlab.models.padded import PaddedRecurrent
from rnnlab.models.scan import MinimalRecurrent, check_minimal_options


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
    weight_drop: float = 0.0,
    mode: str | None = None,
) -> nn.Module:
    """A stack of `num_layers` layers of `cell` ("rnn", "lstm", "gru", ...): the cell's
    equations (`impl="scratch"`) or PyTorch's fused module (`impl="nn"`). `bptt` ("fused"
    or "autograd") picks the scratch cells' backward. `recurrent_dropout` (Keras': one
    mask per sequence on the H fed back into the recurrence) exists for the scratch cells
    only: PyTorch's fused kernels cannot do it. `weight_drop` (AWD's DropConnect on the
    hidden-to-hidden weights) works for both. `mode` ("parallel" or "sequential", None
    for the cell's default) is the minimal cells' (mingru, minlstm: `rnnlab.models.scan`)."""
    if impl == "scratch":
        options = {} if mode is None else {"mode": mode}
        return CELLS[cell](
            input_size,
            num_hiddens,
            num_layers,
            bidirectional,
            dropout,
            bptt,
            recurrent_dropout,
            weight_drop,
            **options,
        )
    if impl != "nn":
        raise ValueError(f"impl must be 'nn' or 'scratch', got {impl!r}")
    if recurrent_dropout > 0:
        raise ValueError(
            f"PyTorch's nn.{cell.upper()} cannot drop out its recurrent state "
            f"(recurrent_dropout={recurrent_dropout}): use impl='scratch'"
        )
    return nn_recurrent(
        cell, input_size, num_hiddens, num_layers, bidirectional, dropout, weight_drop
    )


def runs_layer_by_layer(model_cfg) -> bool:
    """Whether the config asks for something between layers that a fused multi-layer
    module cannot do (`LayeredRecurrent`): dropout on the stack's input or output, locked
    dropout, residual connections."""
    return bool(
        model_cfg.get("input_dropout", 0)
        or model_cfg.get("output_dropout", 0)
        or model_cfg.get("locked_dropout", False)
        or model_cfg.get("residual", False)
    )


def build_recurrent(
    model_cfg, input_size: int, *, bidirectional: bool | None = None, padded: bool = False
) -> nn.Module:
    """The stack the `model` config group describes (cell, impl, sizes, dropouts, bptt,
    weight drop, residual, forget-gate bias), reading `input_size` features;
    `bidirectional` replaces the config's (a decoder is never bidirectional). With
    `padded`, the stack takes right-padded batches and a mask (`forward(X, mask=...)`):
    scratch cells hold their state at padded steps, and nn cells run as a
    `PaddedRecurrent`."""
    check_minimal_options(model_cfg)
    recurrent_dropout = model_cfg.get("recurrent_dropout", 0.0)  # absent from old configs
    weight_drop = model_cfg.get("weight_drop", 0.0)
    bidirectional = model_cfg.bidirectional if bidirectional is None else bidirectional
    padded_nn = padded and model_cfg.impl == "nn" and recurrent_dropout == 0

    def stack(input_size: int, num_layers: int, dropout: float) -> nn.Module:
        args = (input_size, model_cfg.num_hiddens, num_layers, bidirectional, dropout)
        if padded_nn:
            return PaddedRecurrent(model_cfg.cell, *args, weight_drop)
        return recurrent_stack(
            model_cfg.cell,
            model_cfg.impl,
            *args,
            model_cfg.get("bptt", "fused"),
            recurrent_dropout,
            weight_drop,
            model_cfg.get("mode"),
        )

    width = (2 if bidirectional else 1) * model_cfg.num_hiddens
    if model_cfg.get("block", "plain") == "paper":  # the minimal cells' deep version
        recurrent = PaperBlocks(
            [
                stack(input_size if layer == 0 else width, 1, 0.0)
                for layer in range(model_cfg.num_layers)
            ],
            input_size,
            width,
            model_cfg.dropout,
        )
    elif runs_layer_by_layer(model_cfg):
        recurrent = LayeredRecurrent(
            [
                stack(input_size if layer == 0 else width, 1, 0.0)
                for layer in range(model_cfg.num_layers)
            ],
            model_cfg.get("input_dropout", 0.0),
            model_cfg.dropout,
            model_cfg.get("output_dropout", 0.0),
            model_cfg.get("locked_dropout", False),
            model_cfg.get("residual", False),
        )
    else:
        recurrent = stack(input_size, model_cfg.num_layers, model_cfg.dropout)
    if model_cfg.get("forget_bias") is not None:
        init_forget_bias_(recurrent, model_cfg.forget_bias)
    return recurrent


@torch.no_grad()
def init_forget_bias_(recurrent: nn.Module, value: float) -> None:
    """Start every LSTM layer's forget gate at bias `value` (Keras' unit_forget_bias: 1, so
    the cell remembers until it learns to forget; Jozefowicz et al., 2015): the input
    bias's forget block is set to `value` and the hidden bias's to 0, so their sum, which
    is what the gate sees, is `value`. Both stacks keep the gates in nn's order (i, f, g, o).
    A minLSTM stack sets its own (`MinLSTM.init_forget_bias_`)."""
    minimal = [m for m in recurrent.modules() if isinstance(m, MinimalRecurrent)]
    if minimal:
        for module in minimal:
            module.init_forget_bias_(value)
        return
    for name, parameter in recurrent.named_parameters():
        which = name.rsplit(".", 1)[-1]
        n = parameter.shape[0] // 4
        if which.startswith("bias_ih") or which == "b_x":
            parameter[n : 2 * n] = value
        elif which.startswith("bias_hh") or which == "b_h":
            parameter[n : 2 * n] = 0.0
