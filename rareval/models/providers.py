"""Registers every rareval Inspect model provider (imported by ``rareval._registry``)."""
