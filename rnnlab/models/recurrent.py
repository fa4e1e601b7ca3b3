"""One place that turns a `model` config into a recurrent stack, scratch or PyTorch's.

Every kind shares one interface (time-major input `(num_steps, batch, features)`, state
shaped `(num_layers * num_directions, batch, num_hiddens)`, a `(H, C)` pair for LSTM; see
`rnnlab.models.state`), so the task models never ask which kind they hold. The values
were checked at start-up (the schemas, `RecurrentConfig`); a combination no stack can honour is a
ValueError here.
"""

from dataclasses import dataclass

from torch import nn

from rnnlab.config.schema import DROPOUT, POSITIVE, one_of, setting
from rnnlab.models.cells import CELLS, IMPLEMENTATIONS
from rnnlab.models.init import INITS, init_forget_bias_
from rnnlab.models.layered import LayeredRecurrent
from rnnlab.models.min_blocks import BLOCKS, PaperBlocks
from rnnlab.models.nn_cells import nn_recurrent
from rnnlab.models.padded import PaddedRecurrent
from rnnlab.models.scan import MODES, MinimalRecurrent, minimal_problems
from rnnlab.models.scratch import BPTT_MODES


@dataclass
class RecurrentConfig:
    """The `model` group's settings every task's model shares: the recurrent stack (cell,
    implementation, sizes, dropouts, AWD's tools), its input embedding and the init. Each
    task's model config adds its head's settings (`rnnlab.models.lm.LMModelConfig`, ...).
    Every model setting shapes the weights or what they compute: a resumed run keeps them."""

    ON_RESUME = "must_match"

    cell: str = setting("lstm", one_of(CELLS))
    impl: str = setting("nn", one_of(IMPLEMENTATIONS))  # nn: PyTorch's fused module
    bptt: str = setting("fused", one_of(BPTT_MODES))  # scratch: hand-written or autograd
    num_hiddens: int = setting(256, POSITIVE)
    num_layers: int = setting(2, POSITIVE)
    bidirectional: bool = setting(False)
    dropout: float = setting(0.5, DROPOUT)  # between stacked layers
    recurrent_dropout: float = setting(0.0, DROPOUT)  # on the state, per sequence (scratch)
    embed_size: int | None = setting(None, POSITIVE)  # null: one-hot token input
    init: str = setting("default", one_of(INITS))
    embedding_dropout: float = setting(0.0, DROPOUT)  # whole tokens (AWD's dropoute)
    input_dropout: float = setting(0.0, DROPOUT)  # on the first layer's input (dropouti)
    output_dropout: float = setting(0.0, DROPOUT)  # on the last layer's output
    locked_dropout: bool = setting(False)  # one dropout mask per sequence
    weight_drop: float = setting(0.0, DROPOUT)  # DropConnect on hidden-to-hidden weights
    residual: bool = setting(False)  # layers 2.. add their input to their output
    forget_bias: float | None = setting(None)  # LSTM's starting forget-gate bias
    # the minimal cells' (mingru, minlstm): how a window runs (null: parallel) and how
    # layers stack (null: plain, as the classic cells; paper: rnnlab/models/min_blocks.py)
    mode: str | None = setting(None, one_of(MODES))
    block: str | None = setting(None, one_of(BLOCKS))

    def check(self) -> list[str]:
        """What the cell, its implementation and the stack allow together."""
        if issubclass(CELLS[self.cell], MinimalRecurrent) or self.mode or self.block:
            return minimal_problems(self, CELLS[self.cell])
        problems = []
        if self.impl == "nn" and CELLS[self.cell].nn_module is None:
            problems.append(f"cell={self.cell!r} has no PyTorch module: use model.impl=scratch")
        if self.impl == "nn" and self.recurrent_dropout > 0:
            problems.append(
                f"recurrent_dropout={self.recurrent_dropout} needs a scratch cell (e.g. "
                f"model={self.cell}_scratch): PyTorch's fused nn.{self.cell.upper()} cannot "
                "drop out its recurrent state; or set model.recurrent_dropout=0"
            )
        if self.forget_bias is not None and not CELLS[self.cell].has_forget_gate:
            problems.append(
                f"forget_bias={self.forget_bias!r} is for LSTM cells; model.cell="
                f"{self.cell!r} has no forget gate: expected null"
            )
        if self.residual and self.num_layers < 2:
            problems.append(
                f"residual=true joins stacked layers; model.num_layers={self.num_layers} "
                "has none to join: expected num_layers >= 2 or residual=false"
            )
        return problems

    def dropout_needs_layers(self) -> list[str]:
        """For heads whose only dropout is between stacked layers (lm, seq2seq); the
        minimal cells' paper blocks drop out inside each block."""
        if self.dropout > 0 and self.num_layers == 1 and self.block != "paper":
            return [
                f"dropout={self.dropout} acts between stacked layers and model.num_layers=1 "
                "has none: expected model.dropout=0 (or num_layers >= 2)"
            ]
        return []

    def init_for(self, task: str, allowed: tuple[str, ...]) -> list[str]:
        if self.init not in allowed:
            return [
                f"init={self.init!r} is not for task={task}; expected one of: {', '.join(allowed)}"
            ]
        return []


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
    hidden-to-hidden weights) works for both. `mode` (`rnnlab.models.scan.MODES`, None
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
        model_cfg.input_dropout
        or model_cfg.output_dropout
        or model_cfg.locked_dropout
        or model_cfg.residual
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
    recurrent_dropout = model_cfg.recurrent_dropout
    weight_drop = model_cfg.weight_drop
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
            model_cfg.bptt,
            recurrent_dropout,
            weight_drop,
            model_cfg.mode,
        )

    width = (2 if bidirectional else 1) * model_cfg.num_hiddens
    if model_cfg.block == "paper":  # the minimal cells' deep version
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
            model_cfg.input_dropout,
            model_cfg.dropout,
            model_cfg.output_dropout,
            model_cfg.locked_dropout,
            model_cfg.residual,
        )
    else:
        recurrent = stack(input_size, model_cfg.num_layers, model_cfg.dropout)
    if model_cfg.forget_bias is not None:
        init_forget_bias_(recurrent, model_cfg.forget_bias)
    return recurrent
