"""Tamper evidence: signed checkpoints, the verifier, and retention that keeps the log verifiable."""
