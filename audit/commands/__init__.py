"""Implementations of ``prune-audit compare`` and ``prune-audit audit`` (their command-line
entries are :mod:`audit.cli.compare`)."""
