"""Rocket's domain core: models, permission rules, errors and use-cases.

Imports only ``core``, ``ports`` and the standard library (enforced by tests/unit/test_layering.py).
"""
