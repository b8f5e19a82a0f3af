"""The PySide6 user interface. Everything else in composer_app is Qt-free."""
