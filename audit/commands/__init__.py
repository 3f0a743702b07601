"""One module per command family; each exposes ``*_main(...) -> int``."""
