"""Adapters: implementations of the ports over real systems."""
