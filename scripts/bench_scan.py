"""Training tokens/sec of the minimal cells' parallel scan against the step-by-step cells,
over window lengths: what the scan buys as the window grows.

    python scripts/bench_scan.py [--steps 35,256,1024,4096] [--hiddens 256,512]
        [--models gru,lstm,mingru,minlstm,mingru_sequential,
        mingru_fused,minlstm_fused,mingru_log] [--batch-size 32]
        [--device cpu|cuda] [--threads N] [--precision 32|bf16] [--repeats 1]
        [--allocator keep|system]

Each model is rnnlab's language model (one layer, one-hot input over 28 characters, a
linear head): `mingru` and `minlstm` run `model.mode=parallel` (the blocked scan in
ordinary space, gates and backward by hand), `mingru_log` Heinsen's log-space scan
(`model.mode=log`), `mingru_sequential` the same cell a step at a time under autograd,
`*_fused` the `model.mode=fused` loop with its hand-written backward, `gru` and `lstm` are
PyTorch's nn.GRU and nn.LSTM (oneDNN on CPU, cuDNN on CUDA). One training step is
forward, cross-entropy, backward and an SGD update on random tokens (batch × T); the
figure is the median over `--repeats` timings of at least `--min-tokens` tokens each,
after a warm-up step. GFLOP/s counts the matmuls only (training = 3 × the forward's
2·m·k·n); "% of bound" is the tokens/sec those matmuls alone would allow at the speed of
a large square matmul measured here (the roofline's flat part). The minimal cells do few
matmul FLOPs per token, so their bound is far away: their time goes to elementwise work
(the scan, the gates' logarithms), which memory bandwidth bounds instead; the header
gives that bandwidth (a large `add`).
"""

import argparse
import math
import statistics
import time

import torch
from torch.nn import functional as F

from rnnlab.engine import autocast, synchronize
from rnnlab.models.lm import RNNLM
from rnnlab.models.recurrent import recurrent_stack
from rnnlab.run.allocator import ALLOCATORS, use_allocator

VOCAB = 28  # The Time Machine's characters
# model → (cell, impl, mode, gates in W_x, whether a recurrent matmul h W_h runs)
MODELS = {
    "gru": ("gru", "nn", None, 3, True),
    "lstm": ("lstm", "nn", None, 4, True),
    "mingru": ("mingru", "scratch", "parallel", 2, False),
    "minlstm": ("minlstm", "scratch", "parallel", 3, False),
    "mingru_sequential": ("mingru", "scratch", "sequential", 2, False),
    "mingru_fused": ("mingru", "scratch", "fused", 2, False),
    "minlstm_fused": ("minlstm", "scratch", "fused", 3, False),
    "mingru_log": ("mingru", "scratch", "log", 2, False),
}


def flops_per_token(model: str, h: int) -> float:
    """Training matmul FLOPs per token: 3 × the forward's (input projection, recurrent
    matmul where there is one, head)."""
    _, _, _, gates, recurrent = MODELS[model]
    forward = 2 * (VOCAB * gates * h + (h * gates * h if recurrent else 0) + h * VOCAB)
    return 3 * forward


def build(model: str, h: int, device: torch.device) -> RNNLM:
    cell, impl, mode, _, _ = MODELS[model]
    return RNNLM(VOCAB, recurrent_stack(cell, impl, VOCAB, h, mode=mode)).to(device)


def seconds_per_step(model, X, Y, device, precision, steps: int) -> float:
    """Wall seconds per training step, over `steps` steps on the batch (X, Y)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        with autocast(device, precision):
            logits, _ = model(X)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB).float(), Y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize(device)
    return (time.perf_counter() - start) / steps


def peak_gflops(device, dtype, size: int) -> float:
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    return 2 * size**3 / best_of(lambda: a @ b, device) / 1e9


def bandwidth_gbs(device, numel: int) -> float:
    """GB/s of `c = a + b` on float32 tensors (two reads and a write per element)."""
    a, b, c = (torch.randn(numel, device=device) for _ in range(3))
    return 3 * 4 * numel / best_of(lambda: torch.add(a, b, out=c), device) / 1e9


def best_of(call, device, repeats: int = 5) -> float:
    call()
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        call()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="35,256,1024,4096", help="window lengths T")
    parser.add_argument("--hiddens", default="256,512")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="default: torch's")
    parser.add_argument("--precision", default="32", choices=["32", "bf16"])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--min-tokens", type=int, default=16384, help="tokens per timing")
    parser.add_argument("--matmul-size", type=int, default=2048, help="the roofline's matmul")
    parser.add_argument(
        "--allocator",
        default="keep",
        choices=list(ALLOCATORS),
        help="as trainer.allocator (default keep, as training: glibc keeps freed memory)",
    )
    args = parser.parse_args()
    unknown = set(args.models.split(",")) - set(MODELS)
    if unknown:
        parser.error(f"--models: {', '.join(sorted(unknown))} not in {', '.join(MODELS)}")
    return args


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kept = use_allocator(args.allocator)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    peak = peak_gflops(device, dtype, args.matmul_size)
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"precision {args.precision}, batch {args.batch_size}; matmul {args.matmul_size}³: "
        f"{peak:.0f} GFLOP/s; add: {bandwidth_gbs(device, 1 << 24):.1f} GB/s; "
        f"allocator {args.allocator}{' (glibc keeps freed memory)' if kept else ''}\n"
    )
    models = args.models.split(",")
    print("| h | T | model | tokens/s | GFLOP/s | % of bound | vs nn.GRU |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    generator = torch.Generator().manual_seed(0)
    for h in map(int, args.hiddens.split(",")):
        for T in map(int, args.steps.split(",")):
            X = torch.randint(VOCAB, (args.batch_size, T), generator=generator).to(device)
            Y = torch.randint(VOCAB, (args.batch_size, T), generator=generator).to(device)
            steps = max(1, math.ceil(args.min_tokens / X.numel()))
            rates = {}
            for name in models:
                torch.manual_seed(0)
                model = build(name, h, device)
                warm = min(T, 256)  # the same kernels; a long window's step is seconds
                seconds_per_step(model, X[:, :warm], Y[:, :warm], device, args.precision, 1)
                rates[name] = statistics.median(
                    X.numel() / seconds_per_step(model, X, Y, device, args.precision, steps)
                    for _ in range(args.repeats)
                )
                gflops = flops_per_token(name, h) * rates[name] / 1e9
                bound = peak * 1e9 / flops_per_token(name, h)
                ratio = f"{rates[name] / rates['gru']:.2f}×" if "gru" in rates else ""
                print(
                    f"| {h} | {T} | {name} | {rates[name]:,.0f} | {gflops:.1f} | "
                    f"{100 * rates[name] / bound:.1f}% | {ratio} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
