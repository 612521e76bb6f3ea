"""`python -m service` is the `comments` command."""

from service.cli import main

main()
