"""PyTorch's fused recurrent modules (`model.impl=nn`), as the cell registry names them,
made safe under CPU autocast, with DropConnect on their hidden-to-hidden weights."""

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
                batch = (input.batch_sizes[0] if isinstance(input, PackedSequence)
                         else input.shape[0 if self.batch_first else 1])
                hx = begin_state(self, int(batch), input.device)
            hx = tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)
            input = input.to(dtype)
        return super().forward(input, hx)


class DropsHiddenWeights:
    """Mixed into nn.RNN / nn.LSTM / nn.GRU: AWD's weight drop (`weight_drop`, a rate). In
    training, the module's own fused kernel runs on a list of weights in which each
    weight_hh is replaced by a dropped copy (`drop_hidden_weights`); the parameters stay
    untouched and registered as they are, so nothing is re-registered, no
    flatten_parameters() is needed and the state_dict keeps nn's names (the original
    WeightDrop deleted the parameter and set a plain tensor in its place, which modern
    PyTorch warns about and breaks on). Unbatched and packed inputs are not used here."""

    weight_drop: float = 0.0

    def forward(self, input, hx=None):
        if not self.training or self.weight_drop == 0:
            return super().forward(input, hx)
        weights = [drop_hidden_weights(weight, self.weight_drop, True)
                   if name.startswith("weight_hh") else weight
                   for name, weight in zip(self._flat_weights_names, self._flat_weights,
                                           strict=True)]
        if hx is None:
            hx = begin_state(self, input.shape[0 if self.batch_first else 1], input.device)
            hx = tuple(h.to(input.dtype) for h in hx) if isinstance(hx, tuple) \
                else hx.to(input.dtype)
        kernel = KERNELS[next(base for base in type(self).__mro__ if base in KERNELS)]
        with warnings.catch_warnings():
            # cuDNN: the dropped weights are new tensors at every call, so they are never
            # in nn's flattened buffer; the copy it warns about is inherent to weight drop.
            warnings.filterwarnings("ignore", message="RNN module weights are not part")
            result = kernel(input, hx, weights, self.bias, self.num_layers,
                            float(self.dropout), self.training, self.bidirectional,
                            self.batch_first)
        if self.num_state_tensors > 1:  # LSTM: (output, H, C)
            return result[0], result[1:]
        return result


@functools.cache
def nn_class(cell: str) -> type[nn.RNNBase]:
    """The cell's nn module class (nn.LSTM for "lstm"), with `CastsForAutocast` and
    `DropsHiddenWeights` mixed in."""
    scratch = CELLS[cell]
    return type(scratch.nn_module.__name__,
                (CastsForAutocast, DropsHiddenWeights, scratch.nn_module),
                {"num_state_tensors": scratch.num_state_tensors, "__module__": __name__})


def nn_recurrent(cell: str, input_size: int, num_hiddens: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0,
                 weight_drop: float = 0.0) -> nn.RNNBase:
    """PyTorch's module for `cell`: its fused kernels (oneDNN on CPU, cuDNN on GPU), with
    `weight_drop` DropConnect on its hidden-to-hidden weights in training."""
    # nn.RNN warns when dropout is set on a single layer; it has no effect there anyway.
    dropout = dropout if num_layers > 1 else 0.0
    module = nn_class(cell)(input_size, num_hiddens, num_layers, dropout=dropout,
                            bidirectional=bidirectional)
    module.weight_drop = weight_drop
    return module
