"""The registry of published results: the paper-file schema and the assembled, cross-checked registry."""
