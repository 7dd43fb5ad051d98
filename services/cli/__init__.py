"""The ``modx`` command line (Typer)."""
