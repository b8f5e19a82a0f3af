"""The story feature: the story panel (text → scenes → moods), scoring in the background, the fit plot.

``install_story(window)`` adds the Story dock and its actions (Story ▸ Open text…, Read, Score,
Regenerate scene, Cancel) to the main window.
"""
