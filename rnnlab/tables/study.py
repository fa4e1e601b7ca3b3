"""The published ablation study beside our runs of it (scripts/reproduce.py).

`results/published.yaml` holds the study's figures, one item per table: its preset in
`conf/experiment/` and its entries, each the overrides that make it on that preset. Our runs
of every table live in one pool directory (`hydra.sweep.dir` of `ablation_baseline`), one
run directory per setting and seed, so tables that share an entry share its runs. An entry's
runs are found by what they trained, not by their directory names: the pool's
`.hydra/config.yaml` files are matched against the entry's composed config on the keys in
`IDENTITY_KEYS`. report.py writes the table and its plot.
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rnnlab.config import CONF_DIR
from rnnlab.config.run_config import compose_config, register_schemas
from rnnlab.data import DATA_SOURCES
from rnnlab.run.records import read_metrics
from rnnlab.run.run_info import recorded_cpu

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "results" / "published.yaml"

# What makes two runs the same experiment (the seed aside).
IDENTITY_KEYS = (
    "model.cell",
    "model.impl",
    "model.num_hiddens",
    "model.num_layers",
    "model.init",
    "model.dropout",
    "model.embed_size",
    "data.token",
    "data.preprocess",
    "data.max_tokens",
    "data.sampling",
    "data.batch_size",
    "data.num_steps",
    "optim._target_",
    "optim.lr",
    "trainer.max_epochs",
    "trainer.grad_clip",
)


FIGURE_KEYS = ("perplexity", "tokens_per_sec", "failed_fraction")  # published, not overrides


def load_published(path: Path = PUBLISHED) -> dict:
    """{"table12": {"title", "preset", "entries": [{overrides..., perplexity, tokens_per_sec}]},
    "table18": {"title", "views": [...], "metric"}, ...}"""
    return yaml.safe_load(Path(path).read_text())["tables"]


def entry_overrides(entry: dict) -> dict:
    """The overrides of a published entry (its figures removed)."""
    return {k: v for k, v in entry.items() if k not in FIGURE_KEYS}


def identity(cfg) -> tuple:
    """The values of `IDENTITY_KEYS` in a run config. `model.init=d2l` only changes scratch
    entries (d2l initialises its nn models as PyTorch does), so it reads "default" for nn."""
    values = {key: OmegaConf.select(cfg, key, default=None) for key in IDENTITY_KEYS}
    if values["model.init"] is None or (
        values["model.impl"] == "nn" and values["model.init"] == "d2l"
    ):
        values["model.init"] = "default"
    return tuple(str(values[key]) for key in IDENTITY_KEYS)


def entry_identities(preset: str, entries: list[dict], extra: list[str] = ()) -> list[tuple]:
    """Each entry's identity: its config composed as `experiment=PRESET CELL EXTRA` would."""
    register_schemas()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return [
            identity(
                compose(
                    config_name="config",
                    overrides=[
                        f"experiment={preset}",
                        *(f"{k}={v}" for k, v in entry_overrides(c).items()),
                        *extra,
                    ],
                )
            )
            for c in entries
        ]


def unigram_perplexity(preset: str) -> float:
    """exp(entropy) of the token frequencies of the preset's training text: what a model
    that learnt only how often each character occurs scores on it."""
    data = compose_config([f"experiment={preset}"]).data
    train = DATA_SOURCES[data.name].load(data).train
    counts = Counter(train.tolist()).values()
    total = sum(counts)
    return math.exp(-sum(n / total * math.log(n / total) for n in counts))


@dataclass
class EntryRuns:
    """Our runs of one published entry: metrics.json of each finished run, and the count of
    runs that diverged, failed or have not finished."""

    finished: list[dict] = field(default_factory=list)
    others: dict[str, int] = field(default_factory=dict)

    def values(self, key: str) -> list[float]:
        return [m[key] for m in self.finished if isinstance(m.get(key), int | float)]


def pool_runs(pool: Path) -> dict[tuple, list[tuple[Path, dict | None]]]:
    """Run directories under `pool` grouped by identity: {identity: [(dir, metrics)]}."""
    groups: dict[tuple, list] = {}
    for config_file in sorted(Path(pool).glob("*/.hydra/config.yaml")):
        run_dir = config_file.parent.parent
        config = OmegaConf.load(config_file)
        metrics = read_metrics(run_dir)
        if metrics is not None:  # seed, threads, CPU: for the ledger and the provenance
            metrics["seed"] = OmegaConf.select(config, "seed")
            metrics["num_threads"] = OmegaConf.select(config, "trainer.num_threads")
            metrics["cpu"] = metrics.get("cpu") or recorded_cpu(run_dir)  # restored: its own
        groups.setdefault(identity(config), []).append((run_dir, metrics))
    return groups


def collect(groups: dict, identities: list[tuple]) -> list[EntryRuns]:
    """The runs of each entry (given by its identity) among `groups` (`pool_runs`)."""
    entries = []
    for key in identities:
        runs = EntryRuns()
        for _, metrics in groups.get(key, []):
            status = (metrics or {}).get("status", "unfinished")
            if status == "finished":
                runs.finished.append(metrics)
            else:
                runs.others[status] = runs.others.get(status, 0) + 1
        entries.append(runs)
    return entries
