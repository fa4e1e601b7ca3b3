"""Score a trained checkpoint on its task's held-out data, without training
(rnnlab-evaluate).

    python -m rnnlab.evaluate checkpoint=outputs/.../best.pt              # the test split
    python -m rnnlab.evaluate outputs/2025-01-01/12-00-00                  # a run directory
    python -m rnnlab.evaluate checkpoint=... split=val                     # the validation split
    python -m rnnlab.evaluate checkpoint=... file=my_text.txt              # your own file
    python -m rnnlab.evaluate checkpoint=... data.root=/data eval.beam_size=1

Settings (`key=value`):
  checkpoint   best.pt or checkpoint.pt of any rnnlab run, or its run directory (best.pt
               there, else checkpoint.pt); required, and may be given without `checkpoint=`
  split        test (default; a language model without a test split, the book's or a
               data=text run's without data.test_path, is scored on its validation split,
               the held-out end of the text, and read again adaptively when
               eval.dynamic_lr or eval.cache_size is set) or val
  file         score this UTF-8 file instead of a split (tags file/...), read with the
               checkpoint's vocabulary; no dataset is needed. Its format by task:
                 lm         any text (perplexity of the whole text as one stream)
                 sentiment  one review per line: pos, neg, 1 or 0, a tab, the review
                            (a data=labelled run: its data format and labels)
                 seq2seq    one pair per line: source, a tab, target (BLEU, loss)
  eval.*       how it is scored (eval.batch_size, eval.beam_size, ...), even where the
               saved config lacks the key
  data.root, data.download, data.cache_dir
               where the data lives on this machine; any other key (data.val_fraction,
               model.num_hiddens, ...) is the trained run's and is refused
The data is rebuilt from the saved config (the same split and vocabulary as in training;
a vocabulary that differs is refused). Prints one `metric<TAB>value` line per metric.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from rnnlab.config.run_config import resume_roles, saved_config, typed_config
from rnnlab.errors import RnnlabError
from rnnlab.inference.command_line import parse_settings, run_command, split_arguments
from rnnlab.inference.files import file_data
from rnnlab.run.checkpoint import checkpoint_in, load_checkpoint, load_for_inference
from rnnlab.run.resume import same_value
from rnnlab.tasks import TASKS
from rnnlab.tasks.base import Task

log = logging.getLogger(__name__)
USAGE = "checkpoint=PATH [split=test|val] [file=PATH] [data.root=DIR ...]; see --help"
SPLITS = ("test", "val")


@dataclass
class EvaluateConfig:
    checkpoint: str = "???"
    split: str = "test"
    file: str | None = None


def changeable(key: str) -> bool:
    """Whether evaluate may take `key=value`: how the model is scored (eval.*) and where the
    data is read from (the data settings a resumed run may change freely: data.root, ...),
    never what fixes the split or the model (data.val_fraction, model.num_hiddens, ...),
    which the checkpoint's own run decided."""
    return key.startswith("eval.") or (
        key.startswith("data.") and resume_roles().get(key) == "free"
    )


def run_config(saved: dict, overrides: list[str], path: str):
    """The saved run config with the command line's `key=value` for keys it has."""
    config = OmegaConf.create(saved_config(saved.get("config"), path))
    for override in overrides:
        key = override.partition("=")[0]
        if "=" not in override or (
            OmegaConf.select(config, key, default="<none>") == "<none>"
            and not key.startswith("eval.")
        ):
            raise RnnlabError(
                f"{override!r} is neither a setting ({', '.join(SPLITS)} split, "
                f"checkpoint) nor key=value for a key of the run config in "
                f"{path!r}"
            )
        if not changeable(key):
            free = sorted(k for k, role in resume_roles().items() if changeable(k))
            raise RnnlabError(
                f"{key} is the trained run's (it fixes the model or the split the checkpoint "
                f"was made with) and cannot be changed here; evaluate takes eval.* and "
                f"{', '.join(k for k in free if not k.startswith('eval.'))}"
            )
    return typed_config(OmegaConf.merge(config, OmegaConf.from_dotlist(overrides)))


def evaluate(path: str, split: str, overrides: list[str], file: str | None = None) -> dict:
    """{tag: value} of the checkpoint's model on the task's `split`, or on `file`
    (`rnnlab.inference.files`: tags file/...)."""
    path = checkpoint_in(path)
    saved = load_checkpoint(path)
    config = saved.get("config")
    task_node = config.get("task") if isinstance(config, Mapping) else None
    name = task_node.get("name") if isinstance(task_node, Mapping) else None  # tampered: None
    if name not in TASKS:
        raise RnnlabError(
            f"checkpoint {path!r} names task {name!r}; expected one of {', '.join(TASKS)}"
        )
    task_class = TASKS[name]
    model, saved = load_for_inference(path, task_class)
    cfg = run_config(saved, overrides, path)
    if file is not None:
        task = task_class(cfg, file_data(name, file, saved, cfg))
        return {
            "file/" + tag.partition("/")[2]: value
            for tag, value in final_scores(task, model).items()
        }
    task = task_class(cfg)
    for key, value in task.checkpoint_extras().items():
        if key in saved and not same_value(saved[key], value):
            raise RnnlabError(
                f"the {key} rebuilt from the data differs from the one in "
                f"{path!r}: the data files or data settings are not the run's"
            )
    if split == "test" and not task.has_test_split:
        log.warning("task=%s has no test split; scoring its validation split", name)
    return final_scores(task, model) if split == "test" else task.evaluate(model)


def final_scores(task: Task, model) -> dict:
    """What a run reports once trained: its test split's metrics, or for a task without
    one (lm), the validation split's and what `test` adds to them."""
    return task.test(model) if task.has_test_split else task.evaluate(model) | task.test(model)


def _evaluate(argv: list[str]) -> None:
    settings, overrides = split_arguments(argv, EvaluateConfig, strict=False)
    paths = [arg for arg in overrides if "=" not in arg or Path(arg).exists()]
    if len(paths) == 1 and not any(s.startswith("checkpoint=") for s in settings):
        settings.append(f"checkpoint={paths[0]}")  # the run directory or checkpoint, bare
        overrides.remove(paths[0])
    cfg = parse_settings(EvaluateConfig, settings, USAGE)
    if cfg.split not in SPLITS:
        raise RnnlabError(f"split={cfg.split!r} is not one of {', '.join(SPLITS)}")
    for tag, value in evaluate(cfg.checkpoint, cfg.split, overrides, cfg.file).items():
        print(f"{tag}\t{value}" if isinstance(value, str) else f"{tag}\t{value:.6g}")


def main(argv: list[str] | None = None) -> None:
    run_command(_evaluate, argv, __doc__)


if __name__ == "__main__":
    main()
