"""`python -m agora` is the same as the `agora` command."""

from agora.cli import main

raise SystemExit(main())
