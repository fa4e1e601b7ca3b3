"""Where an attention model looks: the weights of a greedy translation as a heat map
(source words across, output words down), for TensorBoard and `rnnlab.translate`."""

import torch

from rnnlab.data.pairs import BOS, EOS, PAD, encode_sentences
from rnnlab.data.sentences import D2L, SentenceTokenizer
from rnnlab.data.vocab import Vocab
from rnnlab.inference.decoding import greedy_search
from rnnlab.models.modes import evaluating


def has_attention(model) -> bool:
    return hasattr(model.decoder, "attention_weights")


@torch.no_grad()
def attention_map(
    model,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    sentence: str,
    num_steps: int,
    tokenizer: SentenceTokenizer = D2L,
):
    """(source tokens with <eos>, output tokens with <eos>, weights (outputs, sources)) of
    the greedy translation of `sentence`, read from a teacher-forced pass over it."""
    words = tokenizer.tokens(sentence)
    src = encode_sentences([words], src_vocab, num_steps)
    src = src[:, : int((src != src_vocab[PAD]).sum())]
    with evaluating(model):
        ids = greedy_search(model, src, tgt_vocab[BOS], tgt_vocab[EOS], num_steps)[0][0]
        out = (ids + [tgt_vocab[EOS]])[:num_steps]
        model(src, torch.tensor([[tgt_vocab[BOS]] + out[:-1]]))
    source = (words + ["<eos>"])[: src.shape[1]]
    return source, tgt_vocab.to_tokens(out), model.decoder.attention_weights[0]


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend, imported when a picture is drawn
    (not when a command starts: the import costs a noticeable part of a short run)."""
    import matplotlib

    matplotlib.use("Agg")  # files and TensorBoard only, never a window
    from matplotlib import pyplot as plt

    return plt


def heatmap(source: list[str], output: list[str], weights: torch.Tensor):
    """A matplotlib figure: one row per output word, one column per source word."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(1 + 0.6 * len(source), 1 + 0.45 * len(output)))
    axes.imshow(weights.float().numpy(), cmap="Reds", vmin=0, vmax=1)
    axes.set_xticks(range(len(source)), source, rotation=45, ha="right")
    axes.set_yticks(range(len(output)), output)
    axes.set_xlabel("English (source)")
    axes.set_ylabel("French (output)")
    figure.tight_layout()
    return figure


def save_heatmap(
    path: str,
    model,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    sentence: str,
    num_steps: int,
    tokenizer: SentenceTokenizer = D2L,
) -> None:
    figure = heatmap(*attention_map(model, src_vocab, tgt_vocab, sentence, num_steps, tokenizer))
    figure.savefig(path, dpi=120)
    pyplot().close(figure)
