"""What every typed config shares: a field's default and its range check in one place, and
the conversion of a composed (untyped) config section into its schema, with one-line
errors.

A component's schema is a dataclass beside its code whose fields are declared with
`setting(default, check)`; a check is a `Check` (a test and what it expects), applied
to non-null values after the types have been converted. A schema may add a `check(self)
-> list[str]` method for rules between its own fields (each problem one string, named by
its key). `typed_section(Schema, node, "model")` returns the node as a structured
DictConfig (so later assignments are type-checked too), or raises one `ConfigError`
naming every problem.
"""

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from rnnlab.errors import RnnlabError


class ConfigError(RnnlabError):
    """A config value that a schema refuses, in one line."""


SEED_LIMIT = 2**32  # torch's generators take 64 bits; epochs are seeded from seed * 100,003


def seed_of(value) -> int:
    """`value` as a seed (training's `seed`, generation's `seed=`), or one ConfigError line."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise ConfigError(f"seed={value!r} is not an integer in [0, 2**32)")
    return value


@dataclass(frozen=True)
class Check:
    ok: Callable[[Any], bool]
    expected: str


def at_least(low: int) -> Check:
    return Check(lambda x: x >= low, f"an integer >= {low}")


def in_range(low: float, high: float, *, low_open=False, high_open=True) -> Check:
    def ok(x):
        return (low < x if low_open else low <= x) and (x < high if high_open else x <= high)

    brackets = ("(" if low_open else "[", ")" if high_open else "]")
    return Check(ok, f"a number in {brackets[0]}{low:g}, {high:g}{brackets[1]}")


def one_of(names) -> Check:
    names = tuple(names)
    return Check(lambda x: x in names, "one of: " + ", ".join(map(str, names)))


POSITIVE = at_least(1)
NATURAL = at_least(0)
NON_NEGATIVE = Check(lambda x: x >= 0, "a number >= 0")
GREATER_THAN_ZERO = Check(lambda x: x > 0, "a number > 0")
DROPOUT = in_range(0, 1)


RESUME_ROLES = ("must_match", "warns", "free")


def setting(default, check: Check | None = None, *, on_resume: str | None = None):
    """A dataclass field: its one default and, if it has one, its range check. `on_resume`
    says what a resumed run may do with it (`rnnlab.run.resume`): "must_match" (it shapes
    the weights or the optimizer state), "free" (how or how long the run goes, not what
    it learns) or, by default, the schema's `ON_RESUME` ("warns": a change is named)."""
    assert on_resume in (None, *RESUME_ROLES), on_resume
    metadata = {"check": check, "on_resume": on_resume}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def field_problems(instance, prefix: str) -> list[str]:
    """Each non-null field whose value fails its `Check`, as `prefix.key=value is not ...`."""
    problems = []
    for spec in fields(instance):
        check, value = spec.metadata.get("check"), getattr(instance, spec.name)
        if check is None or value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{prefix}.{spec.name}={value!r} is not {check.expected}")
        elif not check.ok(value):
            problems.append(f"{prefix}.{spec.name}={value!r} is not {check.expected}")
    rules = getattr(instance, "check", None)
    if rules is not None and not problems:  # the rules read fields that passed their checks
        problems += [f"{prefix}.{problem}" for problem in rules()]
    return problems


def typed_section(schema: type, node, prefix: str, what: str | None = None) -> DictConfig:
    """`node` (a DictConfig or dict) merged into `schema`: unknown keys and values of the
    wrong type are refused, missing keys take the schema's defaults, and every field's
    check runs. `what` names the choice in errors (e.g. "data=imdb")."""
    base = OmegaConf.structured(schema)
    try:
        typed = OmegaConf.merge(base, node if node is not None else {})
        instance = OmegaConf.to_object(typed)
    except ConfigKeyError as error:
        raise ConfigError(unknown_key_message(error, schema, prefix, what)) from None
    except OmegaConfBaseException as error:
        raise ConfigError(type_message(error, prefix)) from None
    problems = field_problems(instance, prefix)
    if problems:
        raise ConfigError("; ".join(problems))
    return typed


def unknown_key_message(error: ConfigKeyError, schema: type, prefix: str, what) -> str:
    key = str(getattr(error, "key", None) or "?")
    names = [spec.name for spec in fields(schema)]
    near = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {prefix}.{near[0]}?)" if near else ""
    owner = f" of {what}" if what else ""
    return f"{prefix}.{key} is not a setting{owner}{hint}; its settings: {', '.join(names)}"


WANTED = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


def type_message(error: OmegaConfBaseException, prefix: str = "") -> str:
    """OmegaConf's several-line report as one line: the key, its value, the type wanted."""
    key = str(getattr(error, "full_key", None) or getattr(error, "key", None) or "?")
    if prefix and not key.startswith(prefix + "."):
        key = f"{prefix}.{key}"
    message = str(getattr(error, "msg", None) or error).split("\n")[0]
    value = getattr(error, "value", None)
    for name, wanted in WANTED.items():
        if f"converted to {name}" in message:
            return f"{key}={value!r} is not {wanted}"
    if "is not a valid bool" in message:
        return f"{key}={value!r} is not true or false"
    if "is not Optional" in message:
        return f"{key}=null is not allowed here (expected a value)"
    return f"{key}: {message}"
