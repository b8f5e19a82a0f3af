"""Action collections: each feature owns its actions, with user-editable shortcuts saved by name.

A collection creates its ``QAction`` objects in ``create_actions`` (name, text, default
shortcuts, slot), loads the user's shortcuts from ``QSettings`` (``shortcuts/<collection>/<name>``)
and registers itself so the shortcuts dialog can list every action of the application.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence

_collections: list[ActionCollection] = []


def all_collections() -> list[ActionCollection]:
    """Every live action collection, in creation order."""
    return list(_collections)


def _sequences(shortcuts) -> list[QKeySequence]:
    if shortcuts is None:
        return []
    if isinstance(shortcuts, (str, QKeySequence, QKeySequence.StandardKey)):
        shortcuts = [shortcuts]
    out = []
    for s in shortcuts:
        if isinstance(s, QKeySequence.StandardKey):
            out.extend(QKeySequence.keyBindings(s))
        else:
            out.append(QKeySequence(s))
    return out


class ActionCollection(QObject):
    """A named set of actions of one feature."""

    name = "actions"  # settings group and the title in the shortcuts dialog
    title = "Actions"

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.actions: dict[str, QAction] = {}
        self.default_shortcuts: dict[str, list[QKeySequence]] = {}
        self.create_actions()
        self.load_shortcuts()
        _collections.append(self)
        self.destroyed.connect(lambda *_: _collections.remove(self) if self in _collections else None)

    def create_actions(self) -> None:
        """Subclasses call ``self.add(...)`` for each action."""

    def add(
        self,
        name: str,
        text: str,
        slot: Callable | None = None,
        shortcuts=None,
        *,
        checkable: bool = False,
        icon: QIcon | None = None,
        tip: str | None = None,
        context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
    ) -> QAction:
        action = QAction(text, self.parent())
        action.setObjectName(f"{self.name}.{name}")
        action.setCheckable(checkable)
        if icon is not None:
            action.setIcon(icon)
        sequences = _sequences(shortcuts)
        action.setShortcuts(sequences)
        action.setShortcutContext(context)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(lambda checked=False, s=slot: s(checked) if checkable else s())
        self.actions[name] = action
        self.default_shortcuts[name] = sequences
        return action

    def __getitem__(self, name: str) -> QAction:
        return self.actions[name]

    def items(self) -> Iterable[tuple[str, QAction]]:
        return self.actions.items()

    # --- shortcuts in the settings ----------------------------------------------------------------
    def _key(self, name: str) -> str:
        return f"shortcuts/{self.name}/{name}"

    def load_shortcuts(self) -> None:
        settings = QSettings()
        for name, action in self.actions.items():
            value = settings.value(self._key(name))
            if value is None:
                continue
            if isinstance(value, str):
                value = [value] if value else []
            action.setShortcuts([QKeySequence(v) for v in value])

    def set_shortcuts(self, name: str, sequences: list[QKeySequence]) -> None:
        """Change an action's shortcuts and save them (defaults are not stored)."""
        action = self.actions[name]
        action.setShortcuts(sequences)
        settings = QSettings()
        if [s.toString() for s in sequences] == [s.toString() for s in self.default_shortcuts[name]]:
            settings.remove(self._key(name))
        else:
            settings.setValue(self._key(name), [s.toString(QKeySequence.SequenceFormat.PortableText) for s in sequences])
