"""Reliability and security matrices (issue 5): faults, bad inputs, leaks, mutations, load and
properties. ``python -m tests.reliability.scorecard`` runs them and prints one line per family."""
