"""`metrics.json`: the record a run leaves of how it ended, and the one module that writes
and reads it (training, sweeps, the ablation tables).

Schema: `task`, `model`, `status` ("finished" or "diverged", or "failed" with `error` for a
job of a sweep that raised), `objective` (the key of the metric that picks the best
epoch), the last epoch's metrics, `best_epoch` and `best_<objective>`, `tokens_per_sec`,
`epochs`, `num_params`, the test split's metrics (numbers, and the text that goes with
some: seq2seq's `test_sacrebleu_signature`, ...) and `wall_seconds`. Keys are the
TensorBoard tags with `/` written `_` (`val/perplexity` → `val_perplexity`); a value that
is not finite is written as null.
"""

import json
import math
import os
from pathlib import Path

FILE_NAME = "metrics.json"
COMPLETE = ("finished", "diverged")  # outcomes a rerun would only repeat


def key_of(tag: str) -> str:
    """A TensorBoard tag as a metrics.json key: "val/perplexity" → "val_perplexity"."""
    return tag.replace("/", "_")


def run_record(
    task: str, model: str, objective: str, result, test_metrics: dict, num_params: int
) -> dict:
    """The record of a run that trained: `result` is the loop's `rnnlab.engine.FitResult`,
    `test_metrics` the tags of the test split (empty when there is none)."""
    return {
        "task": task,
        "model": model,
        "status": result.status,
        "objective": key_of(objective),
        **{key_of(tag): value for tag, value in result.last_metrics.items()},
        "best_epoch": result.best_epoch,
        f"best_{key_of(objective)}": result.best_value,
        # a launch that trained no epoch (a finished run resumed to rebuild a damaged
        # record) has no speed of its own: its last epoch's, not 0
        "tokens_per_sec": result.tokens_per_sec
        or result.last_metrics.get("train/tokens_per_sec", 0.0),
        "epochs": result.epochs,
        "num_params": num_params,
        **{key_of(tag): value for tag, value in test_metrics.items()},
    }


def failure_record(task: str, model: str, error: BaseException) -> dict:
    """The record of a job that raised, so the sweep goes on and the table shows it."""
    return {
        "task": task,
        "model": model,
        "status": "failed",
        "error": f"{type(error).__name__}: {error}",
    }


# what the test step adds to a record: the test split's metrics, and the language model's
# second reading of its held-out text (rnnlab.tasks.lm.LanguageModelTask.test)
FINAL_PREFIXES = ("test_", "val_stream_", "val_adaptive_")


def summary(metrics: dict) -> str:
    """The closing log line: status, objective (last and best epoch), the test metrics,
    speed and time, numbers to 4 significant digits ("status finished  val_sacrebleu 12.3
    best_val_sacrebleu 13.1  test_sacrebleu 12.8 ...  tokens_per_sec 17,012 ...")."""
    objective = metrics.get("objective")
    tests = [
        key
        for key, value in metrics.items()  # not signatures
        if key.startswith(FINAL_PREFIXES) and not isinstance(value, str)
    ]
    keys = ("status", objective, f"best_{objective}", *tests, "tokens_per_sec", "wall_seconds")
    keys += ("fast_dev_run",)
    return "  ".join(f"{key} {short_number(metrics[key])}" for key in keys if key in metrics)


def short_number(value) -> str:
    """A number as every log line prints it: 4 significant digits, or from 1,000 on the
    whole number with thousands separators (tokens/sec 24,033, not 2.403e+04)."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def write_json_atomically(path: Path, data: dict) -> None:
    """Readers (sweep tables, resumed sweeps) never see a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
    os.replace(tmp, path)


def write_metrics(run_dir: Path, metrics: dict) -> None:
    """Write the run's metrics.json (atomically; non-finite numbers as null)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    clean = {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value)
        for key, value in metrics.items()
    }
    write_json_atomically(Path(run_dir) / FILE_NAME, clean)


def read_metrics(run_dir: Path) -> dict | None:
    """The run's metrics.json, or None when it has none (never started, or killed) or holds
    no record (damaged: not a JSON object), which a rerun then redoes."""
    path = Path(run_dir) / FILE_NAME
    if not path.is_file():
        return None
    try:
        metrics = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return metrics if isinstance(metrics, dict) else None


def completed_metrics(run_dir: Path) -> dict | None:
    """metrics.json of a run that finished or diverged (what `trainer.skip_finished` skips);
    None for a run that failed, was killed or never ran, which a rerun must redo."""
    metrics = read_metrics(run_dir)
    return metrics if metrics is not None and metrics.get("status") in COMPLETE else None


def objective_value(metrics: dict, direction: str = "minimize", keep_best: bool = True) -> float:
    """The float a sweeper ranks the job by: with `keep_best`, the best epoch's objective
    (the weights kept in best.pt), else the last epoch's. A diverged or failed run, or one
    with no finite value, gets the worst value (+inf when minimising, -inf when maximising),
    so Optuna records a bad trial instead of stopping the search."""
    worst = math.inf if direction == "minimize" else -math.inf
    if metrics.get("status") != "finished" or "objective" not in metrics:
        return worst
    keys = ["best_" + metrics["objective"]] if keep_best else []
    for key in [*keys, metrics["objective"]]:
        value = metrics.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return worst
