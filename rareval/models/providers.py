"""Registers every rareval Inspect model provider (imported by ``rareval._registry``)."""
from rareval.models import scripted  # noqa: F401  (scripted/<behaviour>)
