"""``python -m registrar``."""

from registrar.cli import main

main()
