"""Reading and writing files: bounded safe YAML with line numbers, the one config loader, atomic writes."""
