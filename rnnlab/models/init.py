"""Initialisation choices (`model.init`) other than PyTorch's: the d2l book's and Keras'.

`default` keeps what each module draws at construction: nn's U(±1/sqrt(num_hiddens)) for
every recurrent weight and bias, scratch and nn alike (so the two are comparable).
"""

import torch
from torch import nn

from rnnlab.models.scan import MinimalRecurrent
from rnnlab.models.scratch import ScratchRecurrent

INITS = ("default", "d2l", "keras")  # model.init


@torch.no_grad()
def init_as_d2l_(recurrent: nn.Module, head: nn.Linear) -> None:
    """Initialise as the d2l book does: its scratch models (`get_params`) draw every weight
    from N(0, 0.01) and set every bias to zero, the output layer included; its nn models
    (`d2l.RNNModel`) keep PyTorch's defaults, so an nn stack is left alone. The published
    table 9 trained the scratch RNN this way.

    d2l's cells have one bias per gate where ours, in nn's layout, have two (b_x and b_h,
    summed for RNN and LSTM). Two zero-initialised biases that are summed learn their sum
    at twice the rate and count twice in the clipped gradient norm, so b_h is frozen at
    zero (no gradient: SGD and the clip skip it) and b_x is d2l's bias. For the GRU that is
    exact too: d2l's candidate bias sits outside r * (H W_hh), where b_x does."""
    if not isinstance(recurrent, ScratchRecurrent):
        return
    for name, parameter in [*recurrent.named_parameters(), *head.named_parameters()]:
        which = name.rsplit(".", 1)[-1]
        if which.startswith("b"):  # b_x, b_h, bias
            parameter.zero_()
        else:
            parameter.normal_(0.0, 0.01)
        if which == "b_h":
            parameter.requires_grad_(False)


@torch.no_grad()
def init_as_keras_(
    recurrent: nn.Module, head: nn.Linear, cell: str, forget_bias: float = 1.0
) -> None:
    """Initialise as Keras' recurrent layers and Dense do by default, scratch and nn stacks
    alike (their parameters are named W_x/W_h/b_x/b_h or weight_ih/weight_hh/bias_*):
    - input weights (Keras' `kernel`, (input_size, G * h)): glorot_uniform,
      U(±sqrt(6 / (input_size + G * h))), over all G gates together;
    - recurrent weights (`recurrent_kernel`, (h, G * h)): orthogonal over the whole
      matrix, as Keras' `Orthogonal` draws a wide matrix: its h rows orthonormal (each
      gate's (h, h) block is a slice of it, not itself orthogonal);
    - biases zero, except an LSTM's forget gate at `forget_bias` (Keras'
      `unit_forget_bias=True`: 1);
    - the head (Dense): glorot_uniform weight, zero bias.
    nn keeps its weights transposed ((G * h, input_size), (G * h, h)); Glorot's bound is
    symmetric in the two sizes and torch's `orthogonal_` makes the narrow side orthonormal
    whichever way the matrix lies, so each layout gets the same distribution as Keras'.
    The embedding is the model's business (the classifier already draws Keras'
    U(±0.05))."""
    for name, parameter in recurrent.named_parameters():
        which = name.rsplit(".", 1)[-1]
        if which == "W_x" or which.startswith("weight_ih"):
            nn.init.xavier_uniform_(parameter)
        elif which == "W_h" or which.startswith("weight_hh"):
            nn.init.orthogonal_(parameter)
        elif which.startswith("b"):  # b_x, b_h, bias_ih_l0, bias_hh_l0_reverse
            parameter.zero_()
        else:
            raise ValueError(f"init_as_keras_: unexpected recurrent parameter {name!r}")
    if cell == "lstm":
        init_forget_bias_(recurrent, forget_bias)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)


def apply_init_(model_cfg, recurrent: nn.Module, head: nn.Linear) -> None:
    """`model.init` applied to a model's recurrent stack and output layer, after
    construction; an explicit `model.forget_bias` still sets the LSTM's forget gate."""
    init = model_cfg.init
    forget_bias = model_cfg.forget_bias
    if init == "d2l":
        init_as_d2l_(recurrent, head)
    elif init == "keras":
        init_as_keras_(recurrent, head, model_cfg.cell, 1.0 if forget_bias is None else forget_bias)
    elif init != "default":
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")


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
