"""The agent registry: registration, leases, and capability lookup."""
