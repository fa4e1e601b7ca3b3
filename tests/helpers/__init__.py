"""Plain helpers and constants that several test modules share (fixtures live in
tests/conftest.py), so that no test module imports another: one module per concern."""
