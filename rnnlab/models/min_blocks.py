"""The minimal cells' deep version (`model.block=paper`): what the paper's appendix adds
to stacked cells (normalisation, residuals and an MLP between layers), each layer a
pre-norm residual block, the cell and then an MLP:

    X = X + cell(LayerNorm(X)),   X = X + MLP(LayerNorm(X)),
    MLP = Linear(w, 4w) → GELU → Linear(4w, w),

with a LayerNorm after the last layer. LayerNorm and the 4w GELU MLP are this module's
choices (lucidrains' minGRU-pytorch makes similar ones), not the paper's exact recipe,
which is not reproduced here. The default, `model.block=plain`, stacks the cells
as the classic cells are stacked, so the two kinds compare like for like.

Shapes and state are a stack's (`rnnlab.models.recurrent`): X (num_steps, batch,
input_size) → outputs (num_steps, batch, w = D * num_hiddens), state (num_layers * D,
batch, num_hiddens), the cells' own (not normalised). The first block adds its input only
where it is w wide (an embedding of that size); padded steps output zeros.
"""

from torch import Tensor, nn

from rnnlab.models.layered import LayeredRecurrent
from rnnlab.models.state import State

BLOCKS = ("plain", "paper")  # model.block


class PaperBlocks(LayeredRecurrent):
    """`layers`: one-layer minimal stacks, the first reading `input_size` features, the
    others `width`; `dropout` acts on each residual branch."""

    def __init__(self, layers: list[nn.Module], input_size: int, width: int, dropout: float):
        super().__init__(layers, layer_dropout=dropout)
        sizes = [input_size] + [width] * (len(layers) - 1)
        self.cell_norms = nn.ModuleList(nn.LayerNorm(size) for size in sizes)
        self.mlp_norms = nn.ModuleList(nn.LayerNorm(width) for _ in layers)
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
            for _ in layers
        )
        self.final_norm = nn.LayerNorm(width)

    def forward_with_raw(
        self, X: Tensor, state: State | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, State, Tensor]:
        states = self._split_state(state)
        keep = None if mask is None else mask.unsqueeze(-1).to(X.dtype)
        finals = []
        for index, layer in enumerate(self.layers):
            inputs = self.cell_norms[index](X)
            Y, final = layer(inputs, states[index], **({} if mask is None else {"mask": mask}))
            Y = self.layer_dropout(Y)
            X = X + Y if X.shape[-1] == Y.shape[-1] else Y
            X = X + self.layer_dropout(self.mlps[index](self.mlp_norms[index](X)))
            X = X if keep is None else X * keep
            finals.append(final)
        X = self.final_norm(X)
        X = X if keep is None else X * keep
        return X, self._join_states(finals), X
