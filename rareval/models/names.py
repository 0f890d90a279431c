"""Checks of model names given on a command line, before anything is loaded or trained."""

from __future__ import annotations


def check_model_name(model: str) -> str:
    """``model`` if it names an Inspect model ``PROVIDER/NAME`` whose provider is registered (for
    ``local/``: a catalog name or a ``.gguf`` path); otherwise ``ValueError`` saying what is known.

    Resolving the model would load it (a local GGUF) or need its API key; this only reads names.
    """
    from inspect_ai._util.registry import registry_find, registry_unqualified_name

    import rareval.models.providers  # noqa: F401  (registers local/ and scripted/)

    provider, sep, name = model.partition("/")
    if not sep or not provider or not name:
        raise ValueError(f"model {model!r} is not PROVIDER/NAME (e.g. openai/gpt-4o-mini, local/qwen-1.5b)")
    if not registry_find(lambda info: info.type == "modelapi" and registry_unqualified_name(info) == provider):
        raise ValueError(f"model {model!r}: no Inspect model provider {provider!r} (e.g. openai, anthropic, vllm, "
                         "openai-api, local, scripted)")
    if provider == "local" and not name.endswith(".gguf"):
        from rareval.models.catalog import names

        if name not in names():
            raise ValueError(f"model {model!r}: no local model {name!r}; known: {', '.join(names())}")
    return model
