"""The ledger: every run's hash chain of results, signed, checkpointed and exportable.

- ``format``: what is hashed and signed (shared with the offline verifier);
- ``merkle``: the tree over the chains' heads, with inclusion proofs;
- ``keys``: the ledger key, kept outside the database;
- ``checkpoints``: signed tree heads, stored and published to an append-only file;
- ``verify``: the database checked against itself, the key and the published checkpoints;
- ``export``: one run's entries with their proof, and the check of such an export offline.
"""
