"""The ``listwatch`` command line: thin wrappers over the library, one module per area."""
