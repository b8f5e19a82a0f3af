"""Qt-free mood model: Mood, presets, mood -> musical attribute targets, text -> mood."""
