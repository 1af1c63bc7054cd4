"""The teller's desktop application (PySide6).

Every Qt import goes through `sigverify_gui.ui.qt`. Widgets call the services
(`sigverify_gui.services`, `sigverify_gui.store`) and `model` for images; long work
runs in `workers.run_in_background`; every error reaches the user through
`errors.show_error`.
"""
