"""Generated stubs of the nomic-serve contract; regenerate with `make proto`, never edit."""
