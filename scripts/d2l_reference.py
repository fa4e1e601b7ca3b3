"""One cell of the study, one seed, trained by d2l 0.17.6's own chapter-8 code: the
reference column of results/table*.md (what d2l's code gives, beside the published figure
and ours).

    bash scripts/d2l_env.sh                     # once: .venv-d2l (make d2l-env)
    .venv-d2l/bin/python scripts/d2l_reference.py --model rnn_scratch --seed 0
    .venv-d2l/bin/python scripts/d2l_reference.py --model lstm --num-hiddens 32 \\
        --num-layers 2 --seed 1 --out results/d2l_reference.jsonl

What runs is d2l's: `load_data_time_machine` (the first 10,000 characters), `RNNModelScratch`
around the chapter's `get_params`/`init_*_state`/`rnn`|`lstm`|`gru` (copied below from the
book, which keeps them in its notebooks, not in d2l/torch.py), `RNNModel` around
nn.RNN/nn.LSTM/nn.GRU, and `train_ch8` unchanged. Three things are patched around it, none
inside a step: `train_epoch_ch8` is wrapped to record each epoch's perplexity (train_ch8
only prints it to one decimal), the `Animator` is a no-op (no plotting), and `--no-clip`
replaces `grad_clipping` with a no-op (the study's "comment out grad_clipping"). A run whose
perplexity turns non-finite stops there as "diverged".

The held-out perplexity is not d2l's (d2l has none); it is rnnlab's, computed here the same
way on the same tokens: the last 10% (rounded down) of the whole book's d2l tokens, read as
`batch_size` contiguous streams from offset 0, `num_steps` at a time, the state carried from
zeros, every window scored (the last may be shorter); the last (N - 1) mod batch_size tokens
do not fill a stream and are not scored, as in rnnlab.

The book comes from `--data` (default $RNNLAB_DATA or ../shared/data): d2l's DATA_HUB cache
is pointed there, and its sha1 must match d2l's, so d2l never downloads.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import sys
import time
import types
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

STUBBED = (
    "torchvision",
    "torchvision.transforms",
    "PIL",
    "PIL.Image",
    "pandas",
    "requests",
    "IPython",
    "IPython.display",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline",
    "matplotlib_inline.backend_inline",
)
MODELS = ("rnn_scratch", "lstm_scratch", "gru_scratch", "rnn", "lstm", "gru")


class Diverged(Exception):
    """The epoch's perplexity is not finite: the run stops (d2l would go on with NaN)."""


@contextlib.contextmanager
def stubbed_unused_modules():
    """Empty modules, while d2l is imported, for what d2l/torch.py imports at its top but
    chapter 8's text code never calls (vision, plotting, tables, downloads). They leave
    sys.modules afterwards, so nothing else (torch's own checks for pandas, say) sees them;
    an attribute the code did use would fail loudly with AttributeError."""
    added = [name for name in STUBBED if name not in sys.modules]
    for name in added:
        sys.modules[name] = types.ModuleType(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    try:
        yield
    finally:
        for name in added:
            del sys.modules[name]


def import_d2l(data_dir: Path):
    """d2l.torch with the stubs, its time-machine download pointed at `data_dir`."""
    with stubbed_unused_modules():
        from d2l import torch as d2l

    book = data_dir / "timemachine.txt"
    if not book.is_file():
        raise SystemExit(f"error: {book} not found; expected d2l's timemachine.txt there")
    d2l.download.__defaults__ = (str(data_dir),)  # cache_dir: a sha1 hit never downloads
    _, sha1 = d2l.DATA_HUB["time_machine"]
    if hashlib.sha1(book.read_bytes()).hexdigest() != sha1:
        raise SystemExit(f"error: {book}'s sha1 is not d2l's {sha1}")
    return d2l


# d2l's chapter 8/9 scratch models (sec_rnn_scratch, sec_lstm, sec_gru), as in the book.
def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def gated_params(vocab_size, num_hiddens, device, gates: int):
    """d2l's get_lstm_params (gates=4: i, f, o, c) and GRU get_params (gates=3: z, r, h):
    `three()` per gate, then the output layer, in the book's order."""
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three():
        return (
            normal((num_inputs, num_hiddens)),
            normal((num_hiddens, num_hiddens)),
            torch.zeros(num_hiddens, device=device),
        )

    params = [p for _ in range(gates) for p in three()]
    params += [normal((num_hiddens, num_outputs)), torch.zeros(num_outputs, device=device)]
    for param in params:
        param.requires_grad_(True)
    return params


def init_lstm_state(batch_size, num_hiddens, device):
    return (
        torch.zeros((batch_size, num_hiddens), device=device),
        torch.zeros((batch_size, num_hiddens), device=device),
    )


def lstm(inputs, state, params):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params
    (H, C) = state
    outputs = []
    for X in inputs:
        I = torch.sigmoid((X @ W_xi) + (H @ W_hi) + b_i)  # noqa: E741 (the book's name)
        F = torch.sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = torch.sigmoid((X @ W_xo) + (H @ W_ho) + b_o)  # noqa: E741
        C_tilda = torch.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        C = F * C + I * C_tilda
        H = O * torch.tanh(C)
        Y = (H @ W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H, C)


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def build_net(d2l, model: str, vocab_size: int, num_hiddens: int, num_layers: int, device):
    """The study's net for `model`: RNNModelScratch (one layer, as the book's) or RNNModel."""
    if model.endswith("_scratch"):
        if num_layers != 1:
            raise SystemExit(f"error: --num-layers {num_layers}: d2l's scratch models have 1")
        cell = model.removesuffix("_scratch")
        params = {
            "rnn": (get_params, init_rnn_state, rnn),
            "lstm": (lambda v, h, d: gated_params(v, h, d, 4), init_lstm_state, lstm),
            "gru": (lambda v, h, d: gated_params(v, h, d, 3), init_rnn_state, gru),
        }[cell]
        return d2l.RNNModelScratch(vocab_size, num_hiddens, device, *params)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[model]
    return d2l.RNNModel(layer(vocab_size, num_hiddens, num_layers), vocab_size=vocab_size).to(
        device
    )


def held_out_perplexity(net, tokens: list[int], batch_size: int, num_steps: int) -> float:
    """rnnlab's held-out perplexity (rnnlab.data.sampling.evaluation_batches), on d2l's net."""
    num_tokens = (len(tokens) - 1) // batch_size * batch_size
    Xs = torch.tensor(tokens[:num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(tokens[1 : 1 + num_tokens]).reshape(batch_size, -1)
    total, count, state = 0.0, 0, net.begin_state(batch_size=batch_size, device="cpu")
    with torch.no_grad():
        for start in range(0, Xs.shape[1], num_steps):
            X, Y = Xs[:, start : start + num_steps], Ys[:, start : start + num_steps]
            y_hat, state = net(X, state)
            total += F.cross_entropy(y_hat, Y.T.reshape(-1), reduction="sum").item()
            count += Y.numel()
    return math.exp(total / count)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(args) -> dict:
    """Train one cell for one seed with d2l's train_ch8; the record written to --out."""
    torch.set_num_threads(args.threads)
    random.seed(args.seed)  # d2l's samplers draw offsets and orders from `random`
    torch.manual_seed(args.seed)  # the scratch params (randn) and nn's init
    d2l = import_d2l(args.data)
    train_iter, vocab = d2l.load_data_time_machine(
        args.batch_size, args.num_steps, use_random_iter=args.sampling == "random"
    )
    device = torch.device("cpu")
    net = build_net(d2l, args.model, len(vocab), args.num_hiddens, args.num_layers, device)
    curve, speeds = [], []
    train_epoch = d2l.train_epoch_ch8

    def recorded_epoch(*epoch_args):
        ppl, speed = train_epoch(*epoch_args)
        curve.append(ppl)
        speeds.append(speed)
        if not math.isfinite(ppl):
            raise Diverged
        return ppl, speed

    d2l.train_epoch_ch8 = recorded_epoch
    d2l.Animator = lambda *a, **k: types.SimpleNamespace(add=lambda *a, **k: None)
    if args.no_clip:
        d2l.grad_clipping = lambda net, theta: None
    started, status = time.perf_counter(), "finished"
    try:
        # train_ch8 prints samples; stdout is for the record
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            d2l.train_ch8(
                net,
                train_iter,
                vocab,
                args.lr,
                args.epochs,
                device,
                use_random_iter=args.sampling == "random",
            )
    except (Diverged, OverflowError):  # math.exp of a mean loss past ~709
        status = "diverged"
    wall = time.perf_counter() - started
    corpus, _ = d2l.load_corpus_time_machine(-1)
    val = corpus[-int(len(corpus) * 0.1) :]
    finite = status == "finished"
    return {
        "model": args.model,
        "num_hiddens": args.num_hiddens,
        "num_layers": args.num_layers,
        "num_steps": args.num_steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "sampling": args.sampling,
        "epochs": args.epochs,
        "grad_clip": not args.no_clip,
        "seed": args.seed,
        "status": status,
        "epochs_run": len(curve),
        "train_perplexity": curve[-1] if curve and finite else None,
        "val_perplexity": held_out_perplexity(net, val, args.batch_size, args.num_steps)
        if finite
        else None,
        "tokens_per_sec": speeds[-1] if speeds else None,
        "wall_seconds": wall,
        "curve_every_10": curve[9::10],
        "threads": args.threads,
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "d2l": "0.17.6",
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=MODELS, default="rnn_scratch")
    p.add_argument("--num-hiddens", type=int, default=512)
    p.add_argument("--num-layers", type=int, default=1)
    p.add_argument("--num-steps", type=int, default=35)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--sampling", choices=("sequential", "random"), default="sequential")
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-clip", action="store_true", help="train without grad_clipping")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    default_data = os.environ.get("RNNLAB_DATA") or str(
        Path(__file__).parents[1] / "../shared/data"
    )
    p.add_argument("--data", type=Path, default=Path(default_data), help="has timemachine.txt")
    p.add_argument("--out", type=Path, help="append the JSON record to this file (JSON lines)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    record = run(args)
    line = json.dumps(record)
    print(line)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as file:
            file.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
