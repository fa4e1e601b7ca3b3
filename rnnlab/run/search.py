"""The end of an Optuna search (`hparams_search=...`): the best trial named with its run
directory, or, when no trial finished, a plain statement of that.

Failed and diverged trials hand Optuna the worst value (+inf when minimising, so the
search goes on), and the Optuna sweeper would then print "Best value: inf" as if a trial
had won. Its two closing lines are held back (`quiet_optuna_summary`) and replaced by
`report_best_trial`, which reads the run directories' metrics.json and adds the best run's
directory to `optimization_results.yaml`.
"""

import logging
import math
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rnnlab.run.records import objective_value, read_metrics

OPTUNA_LOGGER = "hydra_plugins.hydra_optuna_sweeper._impl"
RESULTS_FILE = "optimization_results.yaml"


def is_optuna(config: DictConfig) -> bool:
    return "OptunaSweeper" in str(OmegaConf.select(config, "hydra.sweeper._target_") or "")


def _not_best_lines(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(("Best parameters:", "Best value:"))


def quiet_optuna_summary() -> None:
    """Hold back the sweeper's "Best parameters: ..." / "Best value: ..." lines."""
    logger = logging.getLogger(OPTUNA_LOGGER)
    if _not_best_lines not in logger.filters:
        logger.addFilter(_not_best_lines)


def trial_results(sweep_dir: Path, direction: str) -> list[tuple[float, Path, dict]]:
    """(objective, run directory, metrics) of each job under `sweep_dir` with a metrics.json."""
    found = []
    for path in sorted(Path(sweep_dir).glob("*/metrics.json")):
        metrics = read_metrics(path.parent)
        if metrics is not None:
            found.append((objective_value(metrics, direction), path.parent, metrics))
    return found


def report_best_trial(sweep_dir: Path, config: DictConfig) -> None:
    """Print the best finished trial (its value, parameters and run directory) and record the
    directory in optimization_results.yaml; or say that no trial finished."""
    direction = str(config.hydra.sweeper.direction)
    results_path = Path(sweep_dir) / RESULTS_FILE
    trials = trial_results(sweep_dir, direction)
    finished = [t for t in trials if t[2].get("status") == "finished" and math.isfinite(t[0])]
    if not finished:
        counts = {
            status: sum(t[2].get("status") == status for t in trials)
            for status in ("failed", "diverged")
        }
        print(
            f"no trial of this Optuna search finished ({len(trials)} ran: "
            f"{counts['failed']} failed, {counts['diverged']} diverged), so it has no best "
            f"value; {results_path} says best_value: null",
            file=sys.stderr,
        )
        OmegaConf.save(
            OmegaConf.create(
                {"name": "optuna", "best_params": None, "best_value": None, "best_run_dir": None}
            ),
            results_path,
        )
        return
    pick = min if direction == "minimize" else max
    value, run_dir, metrics = pick(finished, key=lambda t: t[0])
    results = OmegaConf.load(results_path) if results_path.is_file() else OmegaConf.create()
    optuna_best = results.get("best_value")
    if optuna_best is not None and not math.isclose(float(optuna_best), value):
        print(
            f"Optuna's best trial ({optuna_best}) ran in an earlier session of the study "
            f"(another sweep directory); the best of this sweep:"
        )
    else:
        results.best_run_dir = str(run_dir)
        OmegaConf.save(results, results_path)
    overrides = run_dir / ".hydra" / "overrides.yaml"
    chosen = " ".join(OmegaConf.load(overrides)) if overrides.is_file() else "?"
    print(
        f"Best trial: {metrics.get('objective')} {value:.4g} ({direction}) with {chosen}\n"
        f"  run directory: {run_dir}"
    )
