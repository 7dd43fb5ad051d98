"""MODX speaking other agent protocols (MCP, A2A): the endpoints and the mapping to runs."""
