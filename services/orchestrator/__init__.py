"""The workflow engine: definitions, state machines, routing, and the loops that drive runs."""
