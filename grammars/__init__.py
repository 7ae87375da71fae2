"""The grammar files (TOML) of chemtok, shipped as package data; see grammar.py."""
