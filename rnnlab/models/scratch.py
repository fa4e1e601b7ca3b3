"""What every recurrent layer written from its gate equations shares: stacking, directions,
dropout, masks and nn's state format. The cells themselves (one `cell_step` each) are
the modules of `rnnlab.models.cells`.

They exist to teach and to be ablated against PyTorch's fused modules, so each must be
a drop-in replacement for `nn.RNN` (tanh) / `nn.LSTM` / `nn.GRU` with `batch_first=False`:
same constructor sizes, same `(outputs, state)` shapes, same parameter layout (so
`copy_weights_from` makes them compute the same function, which tests/test_scratch.py
proves to float64 precision, gradients included).

Shapes, with D = num_directions, L = num_layers, G = gates per cell (1, 4 or 3):
    X:       (num_steps, batch, input_size)
    outputs: (num_steps, batch, D * num_hiddens)     last layer, directions concatenated
    state:   (L * D, batch, num_hiddens)             row = layer * D + direction
             LSTM: a tuple (H, C) of two such tensors, as nn.LSTM returns it

Speed: the input projection `X @ W_x + b_x` does not depend on the recurrence, so it is
one matmul over all steps before the time loop; each step then costs one `H @ W_h`.
Two ways to run the time loop (`bptt`):
- "autograd": `cell_step` below, step by step, differentiated by autograd. The reference:
  it reads like the equations, and works under autocast.
- "fused" (default): the same equations with the backward pass through time written by
  hand (a cell's `fused_direction`; see `rnnlab.models.bptt`): 1.2-1.6× faster on CPU
  (scripts/bench.py). A cell without one runs "autograd".
"""

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnlab.models.dropout import drop_hidden_weights

State = Tensor | tuple[Tensor, Tensor]

BPTT_MODES = ("fused", "autograd")  # model.bptt

# Our names for one (layer, direction)'s tensors -> PyTorch's names for the same tensors.
NN_NAMES = {"W_x": "weight_ih", "W_h": "weight_hh", "b_x": "bias_ih", "b_h": "bias_hh"}


def nn_parameter_name(layer: int, direction: int, which: str) -> str:
    """PyTorch's name for our tensor `which` ("W_x", "W_h", "b_x" or "b_h"), e.g.
    `nn_parameter_name(1, 1, "W_x") == "weight_ih_l1_reverse"`. nn stores weights
    transposed: `W_x == weight_ih.T`."""
    return f"{NN_NAMES[which]}_l{layer}" + ("_reverse" if direction else "")


class GateWeights(nn.Module):
    """The parameters of one (layer, direction), in PyTorch's gate layout.

    W_x: (input_size, G * num_hiddens)   W_h: (num_hiddens, G * num_hiddens)
    b_x, b_h: (G * num_hiddens,)
    The G gates sit side by side along the last dim in nn's order, so `.chunk(G, -1)`
    splits them. Two biases where one would do for RNN/LSTM, because PyTorch and cuDNN
    keep two (and GRU needs b_h apart: it sits inside r * (h W_hn + b_hn)).
    """

    def __init__(self, input_size: int, num_hiddens: int, num_gates: int):
        super().__init__()
        bound = 1 / math.sqrt(num_hiddens)  # nn's initialisation

        def uniform(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))

        self.W_x = uniform(input_size, num_gates * num_hiddens)
        self.W_h = uniform(num_hiddens, num_gates * num_hiddens)
        self.b_x = uniform(num_gates * num_hiddens)
        self.b_h = uniform(num_gates * num_hiddens)


@dataclass
class DroppedWeights:
    """One (layer, direction)'s tensors with W_h replaced by its weight-dropped copy: read
    by the step loop and the fused BPTT as a `GateWeights` is, so the gradient reaches
    W_h through the dropout."""

    W_x: Tensor
    W_h: Tensor
    b_x: Tensor
    b_h: Tensor


def input_projection(X: Tensor, w: GateWeights, fold_b_h: bool) -> Tensor:
    """X W_x + b_x (+ b_h, where the cell adds it to the same sum) for all steps as one
    matmul: (num_steps, batch, in) -> (num_steps, batch, G * num_hiddens)."""
    bias = w.b_x + w.b_h if fold_b_h else w.b_x
    return torch.addmm(bias, X.reshape(-1, X.shape[-1]), w.W_x).view(*X.shape[:2], -1)


class ScratchRecurrent(nn.Module):
    """Stacking, directions, dropout and state packing; a cell (subclass) gives one step.

    Internally a state is always a tuple of (batch, num_hiddens) tensors (`(H,)` or
    `(H, C)`); only `forward`'s arguments and results use nn's packed format. A cell's
    class attributes are what the registry (`rnnlab.models.cells.CELLS`) knows of it.
    """

    name: str  # the `model.cell` value that selects this cell
    num_gates: int  # G: how many num_hiddens-wide blocks W_x, W_h, b_x, b_h hold
    num_state_tensors: int = 1  # 2 for LSTM: (H, C)
    nn_module: type[nn.RNNBase] | None = None  # PyTorch's fused module, for model.impl=nn
    # The hand-written BPTT, `(X, state, weights) -> (Hs, final state)` with the same
    # results as `cell_step` in a loop; None: "fused" runs the autograd loop.
    fused_direction = None
    has_forget_gate = False  # whether `model.forget_bias` applies (LSTM's, minLSTM's f)

    def __init__(
        self,
        input_size: int,
        num_hiddens: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        bptt: str = "fused",
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
    ):
        super().__init__()
        if bptt not in BPTT_MODES:
            raise ValueError(f"bptt must be 'fused' or 'autograd', got {bptt!r}")
        for name, value in [
            ("input_size", input_size),
            ("num_hiddens", num_hiddens),
            ("num_layers", num_layers),
        ]:
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {dropout!r}")
        if not 0.0 <= recurrent_dropout < 1.0:
            raise ValueError(f"recurrent_dropout must be in [0, 1), got {recurrent_dropout!r}")
        self.input_size = input_size
        self.num_hiddens = num_hiddens
        self.hidden_size = num_hiddens  # nn's name, so code written for nn modules works
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.dropout = dropout
        self.bptt = bptt
        # Keras' recurrent_dropout: in training, the H that feeds the recurrent matmul is
        # multiplied by one dropout mask per sequence (and layer/direction), fixed over time.
        self.recurrent_dropout = recurrent_dropout
        # AWD's weight drop: in training, W_h is replaced by a DropConnect copy, one mask
        # per batch (and layer/direction); the fused BPTT takes it like the stored W_h.
        self.weight_drop = weight_drop
        # Layer l > 0 reads both directions of layer l - 1, concatenated.
        self.weights = nn.ModuleList(
            self.make_weights(
                input_size if layer == 0 else self.num_directions * num_hiddens, num_hiddens
            )
            for layer in range(num_layers)
            for _ in range(self.num_directions)
        )

    def make_weights(self, input_size: int, num_hiddens: int) -> nn.Module:
        """One (layer, direction)'s parameters; a cell without W_h (the minimal cells of
        `rnnlab.models.scan`) makes its own."""
        return GateWeights(input_size, num_hiddens, self.num_gates)

    def weights_of(self, layer: int, direction: int) -> GateWeights:
        """The parameters of `layer` (0 = nearest the input), `direction` (1 = reverse)."""
        return self.weights[layer * self.num_directions + direction]

    def cell_step(
        self,
        XW: Tensor,
        state: tuple[Tensor, ...],
        W_h: Tensor,
        b_h: Tensor,
        H_rec: Tensor | None = None,
    ) -> tuple[Tensor, ...]:
        """One time step. XW: (batch, G * num_hiddens) = x_t @ W_x + b_x, precomputed.
        H_rec: the H that enters `H @ W_h` (H with recurrent dropout), None for state[0].
        Returns the new state, hidden state H first."""
        raise NotImplementedError

    def forward(
        self, X: Tensor, state: State | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """X: (num_steps, batch, input_size); state in nn's format, None for zeros.
        mask: (num_steps, batch) bool, True at real steps; right padding (False after a
        sequence's end) is what nn's packed sequences express. A masked step keeps the
        previous state and outputs zeros (as pad_packed_sequence), so padding changes
        nothing: the final state is the one after each sequence's last real step, and the
        reverse direction, which reads the flipped sequence, meets the padding first and
        starts from the initial state at each sequence's last real token.
        Returns (outputs, state) exactly as the matching nn module does."""
        if X.dim() != 3 or X.shape[-1] != self.input_size:
            raise ValueError(
                f"X must be (num_steps, batch, {self.input_size}), got {tuple(X.shape)}"
            )
        if mask is not None and mask.shape != X.shape[:2]:
            raise ValueError(
                f"mask must be (num_steps, batch) = {tuple(X.shape[:2])}, got {tuple(mask.shape)}"
            )
        states = self._unpack_state(state, X)
        final_states = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                # The reverse direction is the forward recurrence on the reversed sequence;
                # flipping its outputs back lines step t up with the forward half's step t.
                inputs = X.flip(0) if direction else X
                steps_mask = None if mask is None else (mask.flip(0) if direction else mask)
                Y, final_state = self._run_direction(inputs, states[k], self.weights[k], steps_mask)
                outputs.append(Y.flip(0) if direction else Y)
                final_states.append(final_state)
            # (num_steps, batch, D * num_hiddens); one direction: no copy
            X = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
            if layer < self.num_layers - 1:  # as nn: not after the last layer
                X = nn.functional.dropout(X, self.dropout, self.training)
        return X, self._pack_state(final_states)

    def _run_direction(
        self, X: Tensor, state: tuple[Tensor, ...], w: GateWeights, mask: Tensor | None = None
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """X: (num_steps, batch, in) -> (H for every step: (num_steps, batch, num_hiddens),
        final state). mask: (num_steps, batch) bool or None, see `forward`.
        The fused BPTT knows neither masks nor recurrent dropout; with either, the step
        loop below runs under autograd."""
        if mask is not None and bool(mask.all()):
            mask = None  # a batch without padding (common when bucketed)
        if self.training and self.weight_drop > 0:
            w = DroppedWeights(
                w.W_x, drop_hidden_weights(w.W_h, self.weight_drop, True), w.b_x, w.b_h
            )
        drop_active = self.training and self.recurrent_dropout > 0
        if (
            self.bptt == "fused"
            and self.fused_direction is not None
            and mask is None
            and not drop_active
            and not torch.is_autocast_enabled(X.device.type)
        ):
            return self.fused_direction(X, state, w)
        XW = X @ w.W_x + w.b_x  # (num_steps, batch, G * num_hiddens), one matmul
        drop = None
        if drop_active:
            keep = 1 - self.recurrent_dropout  # one mask per sequence: (batch, num_hiddens)
            drop = torch.bernoulli(X.new_full(state[0].shape, keep)) / keep
        # Steps where every sequence is real need no select (most steps, when bucketed).
        all_real = [True] * len(XW) if mask is None else mask.all(dim=1).tolist()
        Hs = []
        for t, XW_t in enumerate(XW.unbind(0)):
            H_rec = None if drop is None else state[0] * drop
            new_state = self.cell_step(XW_t, state, w.W_h, w.b_h, H_rec)
            if all_real[t]:
                state = new_state
                Hs.append(state[0])
            else:
                real = mask[t].unsqueeze(-1)  # (batch, 1)
                state = tuple(
                    torch.where(real, new, old) for new, old in zip(new_state, state, strict=True)
                )
                Hs.append(state[0] * real)
        return torch.stack(Hs), state

    def _unpack_state(self, state: State | None, X: Tensor) -> list[tuple[Tensor, ...]]:
        """nn's packed state -> one tuple of (batch, num_hiddens) tensors per row."""
        rows = self.num_layers * self.num_directions
        shape = (rows, X.shape[1], self.num_hiddens)
        if state is None:
            zeros = X.new_zeros(shape[1:])
            return [(zeros,) * self.num_state_tensors] * rows
        tensors = (state,) if isinstance(state, Tensor) else tuple(state)
        if len(tensors) != self.num_state_tensors:
            raise ValueError(
                f"{type(self).__name__} state must be "
                f"{self.num_state_tensors} tensor(s), got {len(tensors)}"
            )
        for t in tensors:
            if t.shape != shape:
                raise ValueError(f"state tensors must be {shape}, got {tuple(t.shape)}")
        return list(zip(*(t.unbind(0) for t in tensors), strict=True))

    def _pack_state(self, states: list[tuple[Tensor, ...]]) -> State:
        """One tuple per row -> nn's format: (L * D, batch, num_hiddens), or (H, C)."""
        packed = tuple(torch.stack(ts) for ts in zip(*states, strict=True))
        return packed if self.num_state_tensors > 1 else packed[0]

    @torch.no_grad()
    def copy_weights_from(self, module: nn.RNNBase) -> None:
        """Copy an nn.RNN (tanh) / nn.LSTM / nn.GRU's parameters into ours, so both compute
        the same function. Raises ValueError if the cell kind or any size differs."""
        if (
            self.nn_module is None
            or not isinstance(module, self.nn_module)
            or getattr(module, "nonlinearity", "tanh") != "tanh"
        ):
            raise ValueError(
                f"{type(self).__name__} takes weights from an "
                f"{getattr(self.nn_module, '__name__', 'nn module')} (tanh for "
                f"RNN), got {module}"
            )
        expected = {
            "input_size": self.input_size,
            "hidden_size": self.num_hiddens,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "bias": True,
            "proj_size": 0,
        }
        for name, value in expected.items():
            if getattr(module, name, value) != value:
                raise ValueError(
                    f"{name} differs: {type(module).__name__} has "
                    f"{getattr(module, name)!r}, {type(self).__name__} "
                    f"needs {value!r}"
                )
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                w = self.weights_of(layer, direction)
                for which in NN_NAMES:
                    source = getattr(module, nn_parameter_name(layer, direction, which))
                    target = getattr(w, which)
                    target.copy_(source.T if target.dim() == 2 else source)
