"""Every preset's resolved config in two checkouts, side by side: what a config change
renamed, added, dropped or changed.

    python scripts/preset_diff.py --before ../old-checkout      # against this checkout
    python scripts/preset_diff.py --before A --after B --only lm_best

For each preset (every `experiment=` choice, the three tasks alone, and each model,
scheduler and optimizer choice on the default task) it composes the config in each
checkout as a run sees it (after the typed schemas where that checkout has them) and prints
the keys whose value differs, those only in one of them, and a closing count. Exit 1 when
a preset's value changed (a key in both with another value), 0 otherwise.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

# Run inside each checkout (PYTHONPATH set to it): print {preset: flat config} as JSON.
WORKER = r"""
import json, os, sys
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
root = sys.argv[1]
typed_config = None
if os.path.exists(root + "/rnnlab/config/run_config.py"):  # a checkout with typed schemas
    from rnnlab.config.run_config import register_schemas, typed_config
    register_schemas()
try:
    from rnnlab.run.flatten import flatten_config
except ImportError:  # a checkout older than it
    from rnnlab.run.events import flatten_config
out = {}
for name, overrides in json.loads(sys.argv[2]).items():
    groups = [o.split("=", 1) for o in overrides if "." not in o.split("=")[0]]
    if any(not os.path.exists(f"{root}/conf/{g}/{v}.yaml") for g, v in groups):
        continue  # an option this checkout does not have (`optional` would compose without it)
    with initialize_config_dir(config_dir=root + "/conf", version_base="1.3"):
        try:
            cfg = compose(config_name="config", overrides=overrides)
        except Exception:  # an option this checkout does not have
            continue
    if typed_config is not None:
        cfg = typed_config(cfg)
    else:
        from rnnlab.validation import settle_unused_dropout
        settle_unused_dropout(cfg)
    flat = flatten_config(OmegaConf.to_container(cfg, resolve=True))
    plain = (int, float, str, bool, type(None))
    out[name] = {k: v if isinstance(v, plain) else repr(v) for k, v in flat.items()}
print(json.dumps(out))
"""


def presets(root: Path) -> dict[str, list[str]]:
    """Preset name → its overrides, from the `after` checkout's config groups."""
    conf = root / "conf"
    found = {"default": [], "task=seq2seq": ["task=seq2seq"], "task=sentiment": ["task=sentiment"]}
    for group in ("model", "scheduler", "optim"):
        for path in sorted((conf / group).glob("*.yaml")):
            if not path.stem.startswith("_"):
                found[f"{group}={path.stem}"] = [f"{group}={path.stem}"]
    for path in sorted((conf / "experiment").glob("*.yaml")):
        if not path.stem.startswith("_"):
            found[f"experiment={path.stem}"] = [f"experiment={path.stem}"]
    for path in sorted((conf / "lm_awd_without").glob("*.yaml")):
        name = f"experiment=lm_best_ablation lm_awd_without={path.stem}"
        found[name] = name.split()
    return found


def resolved(root: Path, wanted: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    env_root = str(root.resolve())
    result = subprocess.run(
        [sys.executable, "-c", WORKER, env_root, json.dumps(wanted)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_root, "PATH": "/usr/bin:/bin"},
        cwd=env_root,
    )
    if result.returncode != 0:
        sys.exit(f"error: composing in {root} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the old checkout")
    parser.add_argument("--after", type=Path, default=HERE, help="the new checkout (this one)")
    parser.add_argument("--only", nargs="*", help="preset names to compare (default: all)")
    args = parser.parse_args()
    wanted = presets(args.after)
    if args.only:
        wanted = {name: value for name, value in wanted.items() if name in args.only}
    before, after = resolved(args.before, wanted), resolved(args.after, wanted)
    changed_any = False
    for name in wanted:
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            print(f"{name}: only {'after' if old is None else 'before'}")
            continue
        changed = {k: (old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]}
        dropped, added = sorted(old.keys() - new.keys()), sorted(new.keys() - old.keys())
        changed_any |= bool(changed)
        status = "same" if not (changed or dropped) else "DIFFERS"
        print(
            f"{name}: {status} ({len(changed)} changed, {len(dropped)} only before, "
            f"{len(added)} only after)"
        )
        for key in sorted(changed):
            print(f"    changed  {key}: {changed[key][0]} -> {changed[key][1]}")
        for key in dropped:
            print(f"    before   {key} = {old[key]}")
        for key in added:
            print(f"    after    {key} = {new[key]}")
    sys.exit(1 if changed_any else 0)


if __name__ == "__main__":
    main()
