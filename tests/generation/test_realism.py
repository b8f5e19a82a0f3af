"""The realism test: per-clip features, baselines, and the real-vs-generated classifier."""

import numpy as np
import pytest

from composer_app.generation import realism
from composer_app.generation.realism import Context, clip_features, realism_report

TPQ = 12
BAR = 4 * TPQ  # 4/4


def tune(pitches, durations=None, start=0):
    """A monophonic line: consecutive notes of the given pitches (eighths by default)."""
    durations = durations or [TPQ // 2] * len(pitches)
    rows, t = [], start
    for p, d in zip(pitches, durations):
        rows.append((t, d, p))
        t += d
    return np.array(rows, dtype=np.int64)


# Four bars of a D dorian tune (key signature: no sharps or flats), eighth notes.
DORIAN = [62, 64, 65, 67, 69, 67, 65, 64, 62, 65, 69, 72, 71, 69, 67, 65,
          64, 62, 64, 65, 67, 65, 64, 62, 60, 62, 64, 65, 64, 62, 62, 62]
CONTEXT = Context(tune(DORIAN), BAR, TPQ, key_signature=0)


def test_a_copy_of_the_prompts_bars_is_seen_as_restatement():
    copy = realism.repeat_prompt(CONTEXT, 2)  # the last two bars again
    assert copy[:, 2].tolist() == DORIAN[16:]
    f = clip_features(copy, CONTEXT)
    assert f["prompt_bar_copy_share"] == 1.0
    assert f["longest_prompt_run"] == 16
    assert f["prompt_rhythm_copy_share"] == 1.0
    moved = copy.copy()
    moved[:, 2] += 2  # the same bars a step higher: transposed, not copied
    g = clip_features(moved, CONTEXT)
    assert g["prompt_bar_copy_share"] == 0.0 and g["prompt_bar_transposed_share"] == 1.0


def test_steps_leaps_register_and_cadence():
    climbing = tune([62, 64, 65, 67, 69, 71, 72, 74], [TPQ] * 7 + [2 * TPQ])  # D up an octave, stepwise
    f = clip_features(climbing, CONTEXT)
    assert f["step_share"] == 1.0 and f["leap_share"] == 0.0 and f["max_leap"] == 2
    assert f["contour_second_half"] > 0 and f["high_vs_prompt"] == 2  # the prompt's top note is 72
    assert f["cadence_tonic"] == 1.0  # ends on D, the tonic of D dorian
    assert f["last_note_quarters"] == 2.0
    leaping = tune([62, 74, 62, 74, 62, 79])
    g = clip_features(leaping, CONTEXT)
    assert g["leap_share"] == 1.0 and g["big_leap_share"] == 1.0 and g["max_leap"] == 17
    assert g["cadence_tonic"] == 0.0 and g["cadence_fifth"] == 0.0


def test_key_signature_agreement_reads_the_notated_key():
    sharp_sixth = tune([62, 64, 66, 67, 69, 71, 72, 74])  # F sharp: against a signature without sharps
    f = clip_features(sharp_sixth, CONTEXT)
    assert f["key_signature_agreement"] == pytest.approx(7 / 8)
    # The same notes with a one-sharp signature (G major / D mixolydian) all agree.
    g = clip_features(sharp_sixth, Context(CONTEXT.prompt, BAR, TPQ, key_signature=1))
    assert g["key_signature_agreement"] == 1.0
    assert realism.prompt_key(CONTEXT).name == "D dorian"


def test_every_feature_is_documented_and_finite():
    f = clip_features(tune([60, 62]), CONTEXT)
    assert list(f) == list(realism.FEATURES)
    assert all(np.isfinite(v) for v in f.values())
    empty = clip_features(np.zeros((0, 3), np.int64), CONTEXT)
    assert empty["note_count"] == 0 and all(np.isfinite(v) for v in empty.values())


SCALE = [62, 64, 65, 67, 69, 71, 72, 74, 76]


def _answer(ctx, rng):
    """A 'real' continuation: the prompt's last bars again, the second half a step away."""
    answer = realism.repeat_prompt(ctx, 4)
    second = answer[:, 0] >= 2 * BAR
    idx = [SCALE.index(p) for p in answer[second, 2]]
    answer[second, 2] = [SCALE[i] for i in np.clip(np.array(idx) + rng.choice([-1, 1]), 0, 8)]
    return answer


def _cases(n, seed=0):
    """n prompts (random walks in D dorian) with 'real' continuations that restate and step."""
    rng = np.random.default_rng(seed)
    contexts, real = [], []
    for _ in range(n):
        idx = np.clip(np.cumsum(rng.choice([-1, 1, 0], size=32)) + 4, 0, 8)
        ctx = Context(tune([SCALE[i] for i in idx]), BAR, TPQ, key_signature=0)
        contexts.append(ctx)
        real.append(_answer(ctx, rng))
    return contexts, real


def test_the_report_separates_what_differs_and_not_what_is_alike():
    contexts, real = _cases(30)
    rng = np.random.default_rng(1)
    like_real = [[_answer(c, rng) for _ in range(2)] for c in contexts]  # the same kind of music
    noise = [[np.column_stack([r[:, 0], r[:, 1], rng.integers(40, 90, len(r))]) for _ in range(2)] for r in real]
    report = realism_report(contexts, real, {"alike": like_real, "noise": noise}, groups=[f"piece-{i}" for i in range(30)], folds=3)
    rows = {r["name"]: r for r in report["rows"]}
    assert set(rows) == {"alike", "noise", "repeat-prompt", "shuffled-prompt-pitches",
                         "alike candidate vs candidate", "noise candidate vs candidate"}
    assert rows["noise"]["logistic"] > 0.9 and rows["noise"]["boosting"] > 0.9
    assert rows["alike"]["logistic"] < 0.75
    assert rows["alike candidate vs candidate"]["logistic"] < 0.75
    assert rows["repeat-prompt"]["summary"]["prompt_bar_copy_share"] == 1.0
    assert rows["noise"]["telltales"][0]["feature"] in realism.FEATURES
    text = realism.to_markdown(report)
    assert "| noise | generator |" in text and "real | reference" in text


def test_folds_never_split_a_piece():
    contexts, real = _cases(8)
    with pytest.raises(ValueError, match="at least 2 pieces"):
        realism_report(contexts, real, {"x": real}, groups=["one"] * 8)
    with pytest.raises(ValueError, match="same length"):
        realism_report(contexts, real[:7], {"x": real}, groups=list(range(8)))


def test_evaluate_realism_continues_held_out_prompts_through_the_engine(tiny_model):
    from composer_app.generation.data import piece_from_notes
    from composer_app.generation.dataset import tokenize_piece
    from composer_app.generation.evaluation import EvalSettings, evaluate_realism

    from .conftest import TPQ as FILE_TPQ
    from .conftest import melody

    items = []
    for i, tonic in enumerate((55, 57, 60, 62, 64, 65)):
        notes = [n for n in melody(tonic, 8, minor=i % 2 == 1) if n.velocity == 90]  # the tune, not the chords
        items.append(tokenize_piece(piece_from_notes(f"essenFolksong/test.abc#{i}", notes, FILE_TPQ)))
    report = evaluate_realism(tiny_model, items, EvalSettings(quick=True))
    assert report["prompts"] == 6 and report["pieces"] == 6 and report["candidates_per_prompt"] == 2
    names = [r["name"] for r in report["rows"]]
    assert names == ["model", "repeat-prompt", "shuffled-prompt-pitches", "model candidate vs candidate"]
    assert all(0.0 <= r["logistic"] <= 1.0 for r in report["rows"])
    # The real continuation of these tunes restates their first bars exactly.
    assert report["real_summary"]["prompt_bar_copy_share"] == 1.0
