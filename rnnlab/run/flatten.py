"""A nested config as one level of dotted keys, the form the HParams dashboard, the resume
check and the config overview compare and print."""

HPARAM_TYPES = (bool, int, float, str)


def flatten_config(config: dict, prefix: str = "") -> dict:
    """{"model": {"num_hiddens": 256}} → {"model.num_hiddens": 256}; other values as text."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_config(value, prefix=f"{name}."))
        else:
            flat[name] = value if isinstance(value, HPARAM_TYPES) else str(value)
    return flat
