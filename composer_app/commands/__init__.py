"""Subcommands of ``composer-app``, one module each.

Each module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Heavy imports (torch, Qt, FluidSynth) happen inside ``run`` so that ``--help`` stays fast.
"""

# name -> module under composer_app.commands, in the order --help lists them
SUBCOMMANDS = {
    "info": "info",
    "suggest": "suggest",
    "vary": "vary",
    "interpolate": "interpolate",
    "harmonize": "harmonize",
    "accompany": "accompany",
    "render": "render",
    "play": "play",
    "ports": "ports",
    "mood": "mood",
    "score-story": "score_story",
    "train": "train",
    "evaluate": "evaluate",
}
