"""The piano-roll editor: model (view state, note index, edits) / view (painted widgets) / tools.

``editor.PianoRollEditor`` assembles the keyboard, ruler, note canvas, velocity lane and scroll
bars; ``tools`` holds the mouse tools the canvas hands its input to; ``edits`` holds the pure
functions that turn (notes, selection) into new notes — every one of them ends in
``Document.apply``.
"""
