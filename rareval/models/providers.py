"""Registers every rareval Inspect model provider (imported by ``rareval._registry``)."""
from rareval.models import llamacpp  # noqa: F401  (local/NAME)
from rareval.models import scripted  # noqa: F401  (scripted/<behaviour>)
