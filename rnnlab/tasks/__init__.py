"""Tasks: what differs between language modelling, translation and classification.

A task owns its data, builds its model and computes its loss and metrics; the training
loop (`rnnlab.engine.fit`) is shared. The interface a task provides:

- `build_model() -> nn.Module`
- `train_batches(epoch) -> iterable of batches`, `num_train_batches() -> int`
- `training_loss(model, batch, carry) -> (mean loss, number of tokens, carry)`;
  `carry` is whatever the task passes from one batch to the next (a hidden state) or None
- `train_metrics(mean_loss) -> dict`, `evaluate(model) -> dict` (TensorBoard tags)
- `log_samples(model, logger, epoch)`: text samples for TensorBoard
- `checkpoint_extras() -> dict` of plain values needed to use a checkpoint (the vocab)
- `objective`: the tag of the metric sweeps minimise, `metric_tags`: tags for HParams
"""

from rnnlab.errors import RnnlabError
from rnnlab.tasks.lm import LanguageModelTask
from rnnlab.tasks.sentiment import SentimentTask
from rnnlab.tasks.seq2seq import Seq2SeqTask

TASKS = {"lm": LanguageModelTask, "seq2seq": Seq2SeqTask, "sentiment": SentimentTask}


def build_task(cfg):
    """The task named by `cfg.task.name`, given the whole run config."""
    if cfg.task.name not in TASKS:
        raise RnnlabError(f"task.name={cfg.task.name!r} is not one of: {', '.join(TASKS)}")
    return TASKS[cfg.task.name](cfg)
