"""Training throughput of rnnlab's language models, next to what the machine allows.

    python scripts/bench.py [--cells rnn,lstm,gru] [--hiddens 256,512]
                            [--impl nn,scratch,scratch_autograd] [--device cpu|cuda]
                            [--batch-sizes 32] [--precision 32|bf16|fp16] [--repeats 3]

For each model (one layer, one-hot input over The Time Machine's 28 characters, SGD,
clipping 1, batch 32 × 35 steps by default) it measures, alternating in one process:
- bare: the textbook training step in a tight loop (forward, loss, backward, clip, step),
- loop: rnnlab's own `engine.fit` on the same model and batches (data iteration, progress
  bar, logging and bookkeeping included; evaluation excluded, as in tokens_per_sec),
and prints a Markdown table with the median tokens/sec of `--repeats` runs, the loop's
overhead, the scratch/nn ratio, the achieved GFLOP/s and the bound: the tokens/sec the
model's matmuls alone would reach at the matmul speed measured here for their shapes (for
the per-step recurrent products, the faster of plain `mm` and oneDNN's packed weight, which
is what nn's CPU kernels use).
`scratch_autograd` is the step-by-step scratch path (what scratch cells were before the
hand-written backward), kept as the "before" column.
"""

import argparse
import logging
import statistics
import time

import torch
from omegaconf import OmegaConf
from torch.nn import functional as F

from rnnlab.data.sampling import sequential_batches
from rnnlab.data.timemachine import LMCorpus, load_timemachine
from rnnlab.engine import autocast, clip_gradients, fit, move_to, synchronize
from rnnlab.loggers import Logger
from rnnlab.models.lm import RNNLM
from rnnlab.models.recurrent import recurrent_stack
from rnnlab.models.state import detach_state
from rnnlab.tasks.lm import LanguageModelTask

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def best_seconds_per_call(call, device, seconds: float) -> float:
    """Seconds per `call()`: the best of ten windows of ~seconds/10 each. Why the best:
    this machine (a VM) stalls for seconds at a time; the fastest window is the speed the
    hardware has when nothing else takes it."""
    for _ in range(3):
        call()
    reps = 1
    while True:  # calibrate a window's number of calls
        synchronize(device)
        start = time.perf_counter()
        for _ in range(reps):
            call()
        synchronize(device)
        if time.perf_counter() - start > seconds / 10:
            break
        reps *= 2
    best = float("inf")
    for _ in range(10):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(reps):
            call()
        synchronize(device)
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def measure_mm(m: int, k: int, n: int, device, dtype=torch.float32, seconds=0.3) -> float:
    """Seconds per (m × k) @ (k × n) product on `device`."""
    a = torch.randn(m, k, device=device, dtype=dtype)
    b = torch.randn(k, n, device=device, dtype=dtype)
    return best_seconds_per_call(lambda: a @ b, device, seconds)


def measure_step_mm(m: int, k: int, n: int, device, dtype=torch.float32, seconds=0.3) -> float:
    """Seconds per product of one time step, (m × k) @ (k × n) with the weight reused at
    every step: the faster of plain `mm` and, on CPU, oneDNN with the weight packed once,
    as nn's CPU kernels make it. (rnnlab's scratch cells use plain `addmm`: packing per
    sequence measured no faster over a whole training step.)"""
    plain = measure_mm(m, k, n, device, dtype, seconds)
    mkldnn = torch.ops.mkldnn
    if device.type != "cpu" or dtype != torch.float32 or not hasattr(mkldnn, "_linear_pointwise"):
        return plain
    packed = mkldnn._reorder_linear_weight(torch.randn(n, k), m)
    X = torch.randn(m, k)
    return min(
        plain,
        best_seconds_per_call(
            lambda: mkldnn._linear_pointwise(X, packed, None, "none", [], ""), device, seconds
        ),
    )


def matmul_shapes(cell: str, h: int, vocab: int, batch: int, steps: int) -> list:
    """(m, k, n, count, reused) of every matmul one training step of the model makes;
    `reused`: the same weight at every time step."""
    gh, tb = GATES[cell] * h, batch * steps
    return [
        (tb, vocab, gh, 1, False),
        (vocab, tb, gh, 1, False),  # input projection, grad
        (batch, h, gh, steps, True),
        (batch, gh, h, steps, True),  # recurrence, fwd + bwd
        (h, tb, gh, 1, False),  # recurrent weight grad
        (tb, h, vocab, 1, False),
        (tb, vocab, h, 1, False),
        (h, tb, vocab, 1, False),  # head
    ]


def paired_ratio(numerators: list, denominators: list) -> float:
    """Median over repeats of numerators[r] / denominators[r]."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def flops_per_token(cell: str, h: int, vocab: int) -> float:
    """Training FLOPs per token: 3 × the forward's matmul FLOPs (forward + two grads)."""
    gh = GATES[cell] * h
    return 3 * 2 * (vocab * gh + h * gh + h * vocab)


def build_model(cell: str, impl: str, h: int, vocab: int, device) -> RNNLM:
    kind, bptt = ("scratch", "autograd") if impl == "scratch_autograd" else (impl, "fused")
    recurrent = recurrent_stack(cell, kind, vocab, h, num_layers=1, bptt=bptt)
    return RNNLM(vocab, recurrent).to(device)


def bare_tokens_per_sec(model, batches, device, precision) -> float:
    """The textbook step with nothing around it."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    parameters = list(model.parameters())
    state, tokens = None, 0
    synchronize(device)
    start = time.perf_counter()
    for X, Y in batches:
        with autocast(device, precision):
            logits, state = model(X, detach_state(state))
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(parameters, 1.0)
        optimizer.step()
        tokens += Y.numel()
    synchronize(device)
    return tokens / (time.perf_counter() - start)


def loop_tokens_per_sec(model, corpus, cfg, device) -> float:
    """rnnlab's training loop (`engine.fit`) over the same batches, one epoch."""
    task = LanguageModelTask(cfg, corpus=corpus).to(device)
    task.evaluate = lambda model: {}  # evaluation is not part of tokens/sec
    task.log_samples = lambda *args: None
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    # Logger(): the interface's no-ops, so the benchmark keeps no files
    return fit(task, model, optimizer, cfg.trainer, device, Logger()).tokens_per_sec


def run_config(batch: int, steps: int, precision: str, device) -> OmegaConf:
    return OmegaConf.create(
        {
            "seed": 0,
            "task": {"name": "lm"},
            "data": {
                "batch_size": batch,
                "num_steps": steps,
                "sampling": "sequential",
                "token": "char",
            },
            "trainer": {
                "max_epochs": 1,
                "grad_clip": 1.0,
                "log_every_n_steps": 20,
                "progress_bar": True,
                "precision": precision,
                "device": device.type,
            },
        }
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--hiddens", default="256,512")
    parser.add_argument("--impl", default="nn,scratch,scratch_autograd")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", default="32")
    parser.add_argument("--num-steps", type=int, default=35)
    parser.add_argument("--num-batches", type=int, default=30, help="batches per timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="32", choices=["32", "bf16", "fp16"])
    parser.add_argument("--threads", type=int, default=None)
    return parser.parse_args()


def time_impls(
    cell: str,
    h: int,
    impls: list[str],
    repeats: int,
    batches,
    corpus,
    cfg,
    vocab: int,
    device,
    precision,
) -> tuple[dict, dict]:
    """Per impl, the bare and the loop tokens/sec of each repeat (after one warm-up)."""
    bare = {impl: [] for impl in impls}
    loop = {impl: [] for impl in impls}
    for repeat in range(repeats + 1):  # the first round warms up
        for impl in impls:  # interleaved, so drift hits every impl alike
            torch.manual_seed(repeat)
            model = build_model(cell, impl, h, vocab, device)
            bare_rate = bare_tokens_per_sec(model, batches, device, precision)
            torch.manual_seed(repeat)
            model = build_model(cell, impl, h, vocab, device)
            loop_rate = loop_tokens_per_sec(model, corpus, cfg, device)
            if repeat:
                bare[impl].append(bare_rate)
                loop[impl].append(loop_rate)
    return bare, loop


def main() -> None:
    args = parse_args()
    logging.disable(logging.INFO)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    book = load_timemachine()
    vocab = len(book.vocab)
    dtype = {"32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.precision]

    square = 2048
    square_gflops = 2 * square**3 / measure_mm(square, square, square, device, dtype) / 1e9
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"precision {args.precision}; matmul {square}³: {square_gflops:.0f} GFLOP/s\n"
    )
    print(
        "| cell | impl | h | batch | bare tok/s | loop tok/s | loop overhead | vs nn "
        "| GFLOP/s | bound tok/s | % of bound |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for batch in map(int, args.batch_sizes.split(",")):
        tokens_per_batch = batch * args.num_steps
        corpus = LMCorpus(
            book.vocab, book.train[: args.num_batches * tokens_per_batch + 1], book.val[:100]
        )
        batches = [
            move_to(b, device)
            for b in sequential_batches(
                corpus.train, batch, args.num_steps, torch.Generator().manual_seed(0)
            )
        ]
        cfg = run_config(batch, args.num_steps, args.precision, device)
        for cell in args.cells.split(","):
            for h in map(int, args.hiddens.split(",")):
                shapes = matmul_shapes(cell, h, vocab, batch, args.num_steps)
                mm_seconds = sum(
                    count
                    * (measure_step_mm if reused else measure_mm)(
                        m, k, n, device, dtype, seconds=0.5
                    )
                    for m, k, n, count, reused in shapes
                )
                bound = tokens_per_batch / mm_seconds
                impls = args.impl.split(",")
                bare, loop = time_impls(
                    cell,
                    h,
                    impls,
                    args.repeats,
                    batches,
                    corpus,
                    cfg,
                    vocab,
                    device,
                    args.precision,
                )
                for impl in impls:
                    bare_rate = statistics.median(bare[impl])
                    loop_rate = statistics.median(loop[impl])
                    # Ratios pair the runs of one repeat (seconds apart), then take the
                    # median: this machine's speed drifts more between repeats than within.
                    overhead = 1 - paired_ratio(loop[impl], bare[impl])
                    ratio = (
                        f"{paired_ratio(bare[impl], bare['nn']):.2f}×"
                        if "nn" in bare and impl != "nn"
                        else ""
                    )
                    gflops = flops_per_token(cell, h, vocab) * bare_rate / 1e9
                    print(
                        f"| {cell} | {impl} | {h} | {batch} | {bare_rate:,.0f} | "
                        f"{loop_rate:,.0f} | {100 * overhead:+.1f}% | "
                        f"{ratio} | {gflops:.0f} | {bound:,.0f} | "
                        f"{100 * bare_rate / bound:.0f}% |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
