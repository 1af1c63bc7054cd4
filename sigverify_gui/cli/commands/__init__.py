"""One module per `sigverify` command; each exposes `register(subparsers)`."""
