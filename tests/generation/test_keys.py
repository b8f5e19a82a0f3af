"""Key and mode planning: the prompt's own mode, soft scale guidance, valence moving the 3rd/6th/7th."""

import numpy as np

from composer_app.core.note import Note
from composer_app.core.project import Project
from composer_app.core.theory import Key
from composer_app.core.track import Track
from composer_app.generation import engine, keys


def histogram(weights):
    h = np.zeros(12)
    for pc, w in weights.items():
        h[pc] = w
    return h


A_DORIAN = histogram({9: 8, 11: 3, 0: 4, 2: 3, 4: 5, 6: 2, 7: 2})  # F sharp, G natural


def test_a_dorian_tune_stays_dorian_at_the_neutral_mood():
    plan = keys.plan_key(A_DORIAN, None, key_signature=1)
    assert plan.prompt_key == plan.key == Key(9, "dorian")
    bias = plan.pitch_class_bias
    assert bias[6] == 0 and bias[7] == 0  # F sharp and G natural: the mode's own notes are free
    assert bias[8] == -keys.SCALE_PENALTY  # G sharp (the major 7th) is discouraged, not forbidden
    assert bias[1] == -keys.SCALE_PENALTY  # C sharp likewise
    assert np.isfinite(bias).all() and bias.min() >= -keys.SCALE_PENALTY
    assert plan.key_index == 2 * 9 + 1  # the KEY token: minor third


def test_valence_moves_the_modal_degrees_and_keeps_the_tonic():
    sad, happy = keys.plan_key(A_DORIAN, -0.3, 1), keys.plan_key(A_DORIAN, 0.3, 1)
    assert sad.key == Key(9, "minor") and happy.key == Key(9, "major")
    assert sad.pitch_class_bias[5] > sad.pitch_class_bias[6]  # F natural over F sharp when sad
    assert happy.pitch_class_bias[1] > happy.pitch_class_bias[0]  # C sharp over C when happy
    assert happy.pitch_class_bias[0] <= -keys.MODE_PENALTY + 1  # strongly against the minor third
    mild = keys.plan_key(A_DORIAN, -0.1, 1)
    assert 0 < mild.majorness[1] < 1  # a mixture in between


def test_switching_the_guidance_off_leaves_no_bias():
    plan = keys.plan_key(A_DORIAN, 0.3, 1, scale_penalty=0, mode_penalty=0, guidance=0)
    assert not plan.pitch_class_bias.any()


def test_the_files_key_signature_reaches_the_plan():
    from composer_app.core.clip import Clip
    from composer_app.generation.plan import make_plan

    # An A minor-looking tune (F natural absent, G natural): the file says A dorian (one sharp).
    tune = [Note(i * 240, p, 240) for i, p in enumerate([69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 69, 71, 72, 69, 76, 69])]
    clip = Clip.from_notes(tune, 480)
    assert make_plan(clip, 2, key_signature=1).key == Key(9, "dorian")
    assert make_plan(clip, 2, key_signature=0).key == Key(9, "minor")  # no sharps: F natural, A aeolian
    assert engine._key_signature(Key(9, "dorian")) == 1 and engine._key_signature(None) is None
    project = Project(tracks=(Track(notes=tuple(tune)),), key=Key(9, "dorian"))
    assert engine._key_signature(project.key) == 1


def test_a_notated_key_signature_gets_the_softer_scale_penalty():
    """The collection is known, not guessed: notes outside it lose SCALE_PENALTY_NOTATED_KEY logits."""
    from composer_app.core.clip import Clip
    from composer_app.generation.plan import make_plan

    tune = [Note(i * 240, p, 240) for i, p in enumerate([69, 71, 72, 74, 76, 74, 72, 71, 69, 67, 69, 71, 72, 69, 76, 69])]
    clip = Clip.from_notes(tune, 480)
    notated = make_plan(clip, 2, key_signature=1).bars[0].pitch_class_bias
    guessed = make_plan(clip, 2).bars[0].pitch_class_bias
    assert keys.SCALE_PENALTY_NOTATED_KEY < keys.SCALE_PENALTY
    assert notated[1] == -keys.SCALE_PENALTY_NOTATED_KEY  # C sharp, outside A dorian's collection
    assert guessed[1] == -keys.SCALE_PENALTY  # outside the guessed A minor's likewise, at the full penalty
    assert notated[6] == 0  # F sharp: A dorian's own
