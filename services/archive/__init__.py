"""Archiving history: ``modx db archive`` and ``modx db verify-archive`` (docs/history.md).

Finished runs older than a cut-off go, with their steps, events and ledger entries, to gzip
JSON Lines files with a manifest and the signed ledger checkpoint that covers their chains
(``writer``); then they leave the database, whole partitions at a time where they can
(``prune``). An archive checks out with nothing but its files and the ledger's public key
(``check``).
"""
