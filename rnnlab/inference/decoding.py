"""Turning a trained encoder-decoder into translations: greedy and beam search, batched.

Both start the decoder at `<bos>`, feed back what they chose, and stop a sentence at
`<eos>` or after `max_len` tokens. A hypothesis' score is its model log-probability, the
sum of log p(token | earlier tokens, source) over its tokens, `<eos>` included when it
was produced. Beam search ranks by that score alone unless a length penalty is asked for
(`eval.length_penalty`, GNMT's formula), so by default its answer is the most probable
sentence it found; beam size 1 is greedy search.
"""

import logging
from dataclasses import dataclass
from functools import partial

import torch
from torch.nn import functional as F

from rnnlab.config.schema import NON_NEGATIVE, POSITIVE, setting
from rnnlab.data.bucketing import same_length_batches, trim_padding
from rnnlab.data.pairs import BOS, EOS, PAD, encode_sentences
from rnnlab.data.sentences import D2L, SentenceTokenizer
from rnnlab.data.truecase import Truecaser
from rnnlab.data.vocab import Vocab
from rnnlab.models.modes import evaluating
from rnnlab.models.seq2seq import EncoderDecoder
from rnnlab.models.state import map_state

log = logging.getLogger(__name__)


@dataclass
class DecodingConfig:
    """Translation's `eval` group: the test-time search and the scores' settings."""

    beam_size: int = setting(4, POSITIVE)  # 1 is greedy (validation is always greedy)
    length_penalty: float = setting(0.0, NON_NEGATIVE)  # GNMT's alpha; 0: off
    bleu_k: int = setting(2, POSITIVE)  # longest n-gram of d2l's sentence BLEU
    batch_size: int = setting(512, POSITIVE, on_resume="free")  # sentences translated at once


def _strip(rows: torch.Tensor, eos: int) -> list[list[int]]:
    """(B, T) ids → per row the ids before the first `eos` (all of them without one)."""
    out = []
    for row in rows.tolist():
        out.append(row[: row.index(eos)] if eos in row else row)
    return out


@torch.no_grad()
def greedy_search(
    model: EncoderDecoder, src: torch.Tensor, bos: int, eos: int, max_len: int
) -> tuple[list[list[int]], torch.Tensor]:
    """src: (B, T) ids → (B hypotheses as id lists without <eos>, scores (B,)).

    Every step picks the most probable next token for all B sentences at once; a finished
    sentence keeps stepping (its tokens are dropped) until all have ended.
    """
    state, memory = model.encode(src)
    B = src.shape[0]
    token = torch.full((B, 1), bos, dtype=torch.long, device=src.device)
    finished = torch.zeros(B, dtype=torch.bool, device=src.device)
    scores = torch.zeros(B, device=src.device)
    chosen = []
    for _ in range(max_len):
        logits, state = model.decode(token, state, memory)
        log_probs = F.log_softmax(logits[:, -1].float(), dim=-1)  # (B, V)
        token = log_probs.argmax(dim=-1, keepdim=True)  # (B, 1)
        scores += torch.where(finished, 0.0, log_probs.gather(1, token).squeeze(1))
        finished |= token.squeeze(1) == eos
        chosen.append(token)
        if finished.all():
            break
    return _strip(torch.cat(chosen, dim=1), eos), scores


def length_penalty(lengths: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's (Wu et al., 2016; OpenNMT's "wu") lp(Y) = (5 + |Y|)^α / 6^α; 1 for α = 0."""
    return ((5 + lengths.float()) / 6) ** alpha


def pick_best(scores: torch.Tensor, lengths: torch.Tensor, alpha: float) -> torch.Tensor:
    """The index (B,) of each sentence's best final hypothesis, ranked by log P / lp(Y);
    scores, lengths: (B, K)."""
    return (scores / length_penalty(lengths, alpha)).argmax(dim=1)


@torch.no_grad()
def beam_search(
    model: EncoderDecoder,
    src: torch.Tensor,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    alpha: float = 0.0,
) -> tuple[list[list[int]], torch.Tensor]:
    """src: (B, T) ids → (the best of `beam_size` hypotheses per sentence, its score (B,)).
    With `alpha` > 0 (`eval.length_penalty`), the final K hypotheses are ranked by
    log P / lp(Y) (`length_penalty`, |Y| counting the <eos> when produced), which favours
    longer ones; the search itself and the returned score (log P) are unchanged.

    The B * K hypotheses run as one batch. At each step every live hypothesis is extended
    by every token, and each sentence keeps its K best candidates. A hypothesis that has
    produced `<eos>` stays in the beam with its score frozen (its only extension costs
    nothing), competing with the live ones until the end.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    B, K, device = src.shape[0], beam_size, src.device
    state, memory = model.encode(src)
    state = map_state(lambda s: s.repeat_interleave(K, dim=1), state)  # rows b * K + k
    memory = map_state(lambda m: m.repeat_interleave(K, dim=0), memory)
    scores = torch.full((B, K), -torch.inf, device=device)
    scores[:, 0] = 0.0  # K copies of one start: only the first may grow, or all K would tie
    finished = torch.zeros(B, K, dtype=torch.bool, device=device)
    tokens = torch.full((B * K, 0), bos, dtype=torch.long, device=device)
    token = torch.full((B * K, 1), bos, dtype=torch.long, device=device)
    for _ in range(max_len):
        logits, state = model.decode(token, state, memory)
        log_probs = F.log_softmax(logits[:, -1].float(), dim=-1).view(B, K, -1)  # (B, K, V)
        V = log_probs.shape[-1]
        frozen = torch.full((V,), -torch.inf, device=device)
        frozen[eos] = 0.0  # a finished hypothesis extends only by <eos>, at no cost
        log_probs = torch.where(finished[..., None], frozen, log_probs)
        candidates = (scores[..., None] + log_probs).view(B, K * V)
        scores, index = candidates.topk(K, dim=1)  # (B, K), sorted best first
        parent = index // V + torch.arange(B, device=device)[:, None] * K  # rows in B * K
        parent, token = parent.view(-1), (index % V).view(-1, 1)
        state = map_state(partial(torch.index_select, dim=1, index=parent), state)
        tokens = torch.cat([tokens[parent], token], dim=1)
        finished = finished.view(-1)[parent].view(B, K) | (token.view(B, K) == eos)
        if finished.all():
            break
    tokens = tokens.view(B, K, -1)
    ended = tokens == eos  # |Y|: up to and including the first <eos>, else all
    lengths = torch.where(ended.any(-1), ended.float().argmax(-1) + 1, tokens.shape[-1])
    best = (
        pick_best(scores, lengths, alpha)
        if alpha
        else torch.zeros(B, dtype=torch.long, device=device)
    )
    rows = torch.arange(B, device=device)  # without alpha topk sorted: beam 0 is the best
    return _strip(tokens[rows, best], eos), scores[rows, best]


def search(
    model: EncoderDecoder,
    src: torch.Tensor,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int = 1,
    alpha: float = 0.0,
) -> tuple[list[list[int]], torch.Tensor]:
    """Greedy search for `beam_size` 1, beam search (length penalty `alpha`) above."""
    if beam_size == 1:
        return greedy_search(model, src, bos, eos, max_len)
    return beam_search(model, src, bos, eos, max_len, beam_size, alpha)


@torch.no_grad()
def sequence_log_prob(
    model: EncoderDecoder,
    src: torch.Tensor,
    tgt_in: torch.Tensor,
    tgt_out: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """The model's log-probability of each target (teacher-forced), summed over the
    positions where `mask` is true: (B,). Checks a search's scores independently."""
    log_probs = F.log_softmax(model(src, tgt_in).float(), dim=-1)
    picked = log_probs.gather(2, tgt_out.unsqueeze(2)).squeeze(2)
    return (picked * mask).sum(dim=1)


def translate_ids(
    model: EncoderDecoder,
    src: torch.Tensor,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int = 1,
    batch_size: int = 512,
    src_pad: int | None = None,
    alpha: float = 0.0,
) -> list[list[int]]:
    """Translate many sources (N, T) in batches of `batch_size`, in eval mode (no
    dropout); the model's train/eval mode is restored afterwards. With `src_pad`, the
    sources are right-padded with it and batched by length, each batch cut after its
    sources' end, as in training (`rnnlab.tasks.seq2seq`): the encoder never reads
    padding. Returns one id list per source, in the order given."""
    device = next(model.parameters()).device
    if src_pad is None:
        batches = list(torch.arange(src.shape[0]).split(batch_size))
    else:
        lengths = (src != src_pad).sum(1)
        batches = same_length_batches(lengths, lengths, batch_size)
    out: list[list[int]] = [[] for _ in range(src.shape[0])]
    with evaluating(model):
        for rows in batches:
            batch = src[rows] if src_pad is None else trim_padding(src[rows], src_pad)
            for row, ids in zip(
                rows.tolist(),
                search(model, batch.to(device), bos, eos, max_len, beam_size, alpha)[0],
                strict=True,
            ):
                out[row] = ids
    return out


QUOTED_CHARS = 60  # of a long sentence in a warning: a 1 MB line must not fill the screen


def warn_cut(sentence: str, num_tokens: int, num_steps: int) -> None:
    """Warn that the model reads only the first `num_steps` tokens of `sentence`, quoting
    its start when it is long."""
    quoted = repr(sentence)
    if len(sentence) > QUOTED_CHARS:
        quoted = f"{sentence[:QUOTED_CHARS]!r}... ({len(sentence):,} characters)"
    log.warning(
        "%s has %d tokens: the model reads its first %d (the run's data.num_steps), as the "
        "training sentences were cut",
        quoted,
        num_tokens,
        num_steps,
    )


def translate(
    model: EncoderDecoder,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    sentences: list[str],
    num_steps: int,
    beam_size: int = 1,
    truecase: Truecaser | None = None,
    alpha: float = 0.0,
    tokenizer: SentenceTokenizer = D2L,
) -> list[str]:
    """Source sentences → target ones: tokenised by `tokenizer` and cut as the training
    data was (see `rnnlab.data.pairs`), searched with `beam_size`, joined back into text
    (capitals restored by `truecase`, an unknown word written ⁇)."""
    tokens = [tokenizer.tokens(sentence) for sentence in sentences]
    unknown = sorted({t for sentence in tokens for t in sentence if src_vocab[t] == src_vocab.unk})
    if unknown:
        log.warning("source words not in the vocabulary, read as <unk>: %s", unknown)
    for sentence, words in zip(sentences, tokens, strict=True):
        if len(words) >= num_steps:  # its <eos> and maybe words cut, as in training
            warn_cut(sentence, len(words), num_steps)
    src = encode_sentences(tokens, src_vocab, num_steps)
    ids = translate_ids(
        model,
        src,
        tgt_vocab[BOS],
        tgt_vocab[EOS],
        num_steps,
        beam_size,
        src_pad=src_vocab[PAD],
        alpha=alpha,
    )
    return [tokenizer.text(tgt_vocab.to_tokens(row), truecase) for row in ids]
