"""PyTorch's fused recurrent modules (`model.impl=nn`), as the cell registry names them,
made safe under CPU autocast, with DropConnect on their hidden-to-hidden weights and, on
CUDA, dropout between layers that a checkpoint can reproduce."""

import functools
import warnings

import torch
from torch import _VF, nn
from torch.nn.utils.rnn import PackedSequence

from rnnlab.models.cells import CELLS
from rnnlab.models.dropout import drop_hidden_weights
from rnnlab.models.state import begin_state

# The fused kernel of each module (what nn.RNN / nn.LSTM / nn.GRU.forward call).
KERNELS = {nn.RNN: _VF.rnn_tanh, nn.LSTM: _VF.lstm, nn.GRU: _VF.gru}


class CastsForAutocast:
    """Mixed into nn.RNN / nn.LSTM / nn.GRU: under CPU autocast, give the module its input
    and state already in the autocast dtype. Why: nn.LSTM's CPU kernel (oneDNN) casts its
    weights but not the state, and refuses the mixed dtypes ("could not create a primitive
    descriptor"); on CUDA autocast handles it itself. Weights and state_dict are nn's."""

    num_state_tensors: int  # as the cell's

    def forward(self, input, hx=None):
        if input.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            dtype = torch.get_autocast_dtype("cpu")
            if hx is None:
                batch = (
                    input.batch_sizes[0]
                    if isinstance(input, PackedSequence)
                    else input.shape[0 if self.batch_first else 1]
                )
                hx = begin_state(self, int(batch), input.device)
            hx = tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)
            input = input.to(dtype)
        return super().forward(input, hx)


class DropsHiddenWeights:
    """Mixed into nn.RNN / nn.LSTM / nn.GRU: AWD's weight drop (`weight_drop`, a rate), and
    on CUDA, dropout between layers drawn from torch's generator.

    Weight drop: in training, the module's own fused kernel runs on a list of weights in
    which each weight_hh is replaced by a dropped copy (`drop_hidden_weights`); the
    parameters stay untouched and registered as they are, so nothing is re-registered, no
    flatten_parameters() is needed and the state_dict keeps nn's names (the original
    WeightDrop deleted the parameter and set a plain tensor in its place, which modern
    PyTorch warns about and breaks on).

    Dropout between layers on CUDA: cuDNN draws it from a generator state of its own, made
    once per process and advanced inside the kernel, which no checkpoint can save, so a
    resumed run would not equal an uninterrupted one. In training the kernel then runs one
    layer at a time, with `nn.functional.dropout` (torch's generator, saved with the
    checkpoint) between layers: the same computation as nn's (dropout on every layer's
    output but the last). On CPU nn's kernel already uses torch's generator.
    Unbatched and packed inputs take nn's own path."""

    weight_drop: float = 0.0

    def forward(self, input, hx=None):
        drops_weights = self.training and self.weight_drop > 0
        layer_by_layer = self.training and self.dropout > 0 and input.is_cuda
        if isinstance(input, PackedSequence) or not (drops_weights or layer_by_layer):
            return super().forward(input, hx)
        weights = [
            drop_hidden_weights(weight, self.weight_drop, True)
            if drops_weights and name.startswith("weight_hh")
            else weight
            for name, weight in zip(self._flat_weights_names, self._flat_weights, strict=True)
        ]
        if hx is None:
            hx = begin_state(self, input.shape[0 if self.batch_first else 1], input.device)
            hx = (
                tuple(h.to(input.dtype) for h in hx)
                if isinstance(hx, tuple)
                else hx.to(input.dtype)
            )
        with warnings.catch_warnings():
            # cuDNN: the dropped weights (or one layer's) are never nn's flattened buffer as
            # a whole; the copy it warns about is inherent to running them apart.
            warnings.filterwarnings("ignore", message="RNN module weights are not part")
            if layer_by_layer:
                return self.layer_by_layer(input, hx, weights, self.dropout)
            result = self.kernel(
                input,
                hx,
                weights,
                self.bias,
                self.num_layers,
                float(self.dropout),
                self.training,
                self.bidirectional,
                self.batch_first,
            )
        if self.num_state_tensors > 1:  # LSTM: (output, H, C)
            return result[0], result[1:]
        return result

    @property
    def kernel(self):
        return KERNELS[next(base for base in type(self).__mro__ if base in KERNELS)]

    def layer_by_layer(self, input, hx, weights: list, dropout: float):
        """The fused kernel run one layer at a time on `weights` (nn's flat list), with
        `nn.functional.dropout(p=dropout)` on every layer's output but the last."""
        D = 2 if self.bidirectional else 1
        per_layer = len(weights) // self.num_layers
        states = hx if isinstance(hx, tuple) else (hx,)
        outputs, finals = input, []
        for layer in range(self.num_layers):
            if layer:
                outputs = nn.functional.dropout(outputs, dropout, self.training)
            rows = tuple(state[layer * D : (layer + 1) * D] for state in states)
            result = self.kernel(
                outputs,
                rows if len(rows) > 1 else rows[0],
                weights[layer * per_layer : (layer + 1) * per_layer],
                self.bias,
                1,
                0.0,
                self.training,
                self.bidirectional,
                self.batch_first,
            )
            outputs = result[0]
            finals.append(result[1:])
        packed = tuple(torch.cat(parts) for parts in zip(*finals, strict=True))
        return outputs, (packed if self.num_state_tensors > 1 else packed[0])


@functools.cache
def nn_class(cell: str) -> type[nn.RNNBase]:
    """The cell's nn module class (nn.LSTM for "lstm"), with `CastsForAutocast` and
    `DropsHiddenWeights` mixed in."""
    scratch = CELLS[cell]
    return type(
        scratch.nn_module.__name__,
        (CastsForAutocast, DropsHiddenWeights, scratch.nn_module),
        {"num_state_tensors": scratch.num_state_tensors, "__module__": __name__},
    )


def nn_recurrent(
    cell: str,
    input_size: int,
    num_hiddens: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    weight_drop: float = 0.0,
) -> nn.RNNBase:
    """PyTorch's module for `cell`: its fused kernels (oneDNN on CPU, cuDNN on GPU), with
    `weight_drop` DropConnect on its hidden-to-hidden weights in training."""
    # nn.RNN warns when dropout is set on a single layer; it has no effect there anyway.
    dropout = dropout if num_layers > 1 else 0.0
    module = nn_class(cell)(
        input_size, num_hiddens, num_layers, dropout=dropout, bidirectional=bidirectional
    )
    module.weight_drop = weight_drop
    return module
