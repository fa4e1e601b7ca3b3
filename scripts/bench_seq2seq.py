"""Training throughput of task=seq2seq (target tokens/sec and achieved GFLOP/s), before and
after issue #17's batching, and the share of evaluation spent searching translations.

    python scripts/bench_seq2seq.py [OVERRIDES...] [--steps 200] [--repeats 3]
    taskset -c 1 env OMP_NUM_THREADS=1 python scripts/bench_seq2seq.py experiment=seq2seq_best

Same model, weights, optimizer and data; two ways of batching, alternated `--repeats`
times in one process, median reported:
- padded (before #17): random batches of whole rows, every sentence padded to
  data.num_steps; the encoder reads the padding, the output layer and the loss run on every
  position (the masked loss ignores the padded ones); the optimizer without `fused`;
- bucketed (the task's `train_batches` and `training_loss` today): sources of one length
  per batch, cut after their `<eos>`, targets of similar length cut after the longest, and
  the output layer on the real target tokens only; the optimizer as configured (task=seq2seq
  sets `optim.fused=true`).
GFLOP/s counts the matmul FLOPs of forward and backward (torch's FlopCounterMode, on the
same steps) over the timed wall time. Then one validation pass (`evaluate`: teacher-forced
loss + greedy search) and one test pass (`test`: beam and greedy search) are timed, with
the share of each spent in search.
"""

import argparse
import statistics
import time

import torch
from hydra.utils import instantiate
from torch.utils.flop_counter import FlopCounterMode

from rnnlab.config.run_config import compose_config
from rnnlab.data.pairs import PAD
from rnnlab.engine import clip_gradients
from rnnlab.tasks.seq2seq import Seq2SeqTask, masked_cross_entropy


def padded_batches(task, epoch):
    """The batches before #17: shuffled rows of the padded arrays."""
    train, size = task.corpus.train, task.cfg.data.batch_size
    order = torch.randperm(len(train), generator=task.epoch_generator(epoch))
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        yield train.src[rows], train.tgt_in[rows], train.tgt_out[rows]


def padded_loss(task, model, batch):
    src, tgt_in, tgt_out = batch
    pad = task.tgt_vocab[PAD]
    return masked_cross_entropy(model(src, tgt_in), tgt_out, pad), int((tgt_out != pad).sum())


def bucketed_loss(task, model, batch):
    loss, tokens, _ = task.training_loss(model, batch, None)
    return loss, tokens


def run_steps(task, model, optimizer, batches, loss_fn, grad_clip):
    """(target tokens, seconds) for training on `batches`."""
    tokens, start = 0, time.perf_counter()
    for batch in batches:
        loss, n = loss_fn(task, model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients([p for p in model.parameters()], grad_clip)
        optimizer.step()
        tokens += n
    return tokens, time.perf_counter() - start


def matmul_flops(task, model, batches, loss_fn) -> int:
    """Forward + backward matmul FLOPs of training on `batches` (no update)."""
    counter = FlopCounterMode(display=False)
    with counter:
        for batch in batches:
            loss_fn(task, model, batch)[0].backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def timed(call):
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for rnnlab.train")
    parser.add_argument("--steps", type=int, default=200, help="training steps per window")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation timing")
    args = parser.parse_args()
    cfg = compose_config(["task=seq2seq", *args.overrides])
    torch.manual_seed(cfg.seed)
    task = Seq2SeqTask(cfg)
    model = task.build_model()
    optimizers = {
        "padded": instantiate({**cfg.optim, "fused": None}, model.parameters()),
        "bucketed": instantiate(cfg.optim, model.parameters()),
    }
    ways = {
        "padded": (lambda: padded_batches(task, 1), padded_loss),
        "bucketed": (lambda: task.train_batches(1), bucketed_loss),
    }
    print(
        f"threads {torch.get_num_threads()}  overrides {' '.join(args.overrides)}  "
        f"steps {args.steps}"
    )
    results = {name: [] for name in ways}
    flops = {}
    for name, (batches, loss_fn) in ways.items():
        steps = list(batches())[: args.steps]
        flops[name] = matmul_flops(task, model, steps, loss_fn)
        run_steps(
            task,
            model,
            optimizers[name],
            steps[:5],
            loss_fn,  # warm-up
            cfg.trainer.grad_clip,
        )
    for _ in range(args.repeats):
        for name, (batches, loss_fn) in ways.items():
            steps = list(batches())[: args.steps]
            results[name].append(
                run_steps(task, model, optimizers[name], steps, loss_fn, cfg.trainer.grad_clip)
            )
    print("| batching | target tokens/sec | matmul GFLOP/s | MFLOP per target token |")
    print("| --- | --- | --- | --- |")
    speed = {}
    for name, runs in results.items():
        tokens = runs[0][0]
        seconds = statistics.median(s for _, s in runs)
        speed[name] = tokens / seconds
        print(
            f"| {name} | {tokens / seconds:,.0f} | {flops[name] / seconds / 1e9:.1f} | "
            f"{flops[name] / tokens / 1e6:.1f} |"
        )
    print(f"bucketed / padded: {speed['bucketed'] / speed['padded']:.2f}x")
    if args.no_eval:
        return
    val, test = task.corpus.val, task.corpus.test
    _, search_val = timed(lambda: task.translate(model, val, 1))
    _, evaluate_s = timed(lambda: task.evaluate(model))
    _, search_test = timed(
        lambda: (task.translate(model, test, cfg.eval.beam_size), task.translate(model, test, 1))
    )
    _, test_s = timed(lambda: task.test(model))
    epoch_s = task.num_train_batches() * (
        statistics.median(s for _, s in results["bucketed"]) / args.steps
    )
    print(
        f"evaluate (val, {len(val)} pairs): {evaluate_s:.2f} s, greedy search "
        f"{search_val:.2f} s ({search_val / evaluate_s:.0%}); one training epoch "
        f"~{epoch_s:.1f} s"
    )
    print(
        f"test ({len(test)} pairs): {test_s:.2f} s, beam {cfg.eval.beam_size} + greedy "
        f"search {search_test:.2f} s ({search_test / test_s:.0%})"
    )


if __name__ == "__main__":
    main()
