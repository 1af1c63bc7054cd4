"""`python -m sigverify_gui.cli` (and `torchrun -m sigverify_gui.cli train ...`)."""

from sigverify_gui.cli import entry_point

entry_point()
