"""The story reader's training: sign-balanced ridge and paraphrase-grouped cross-validation folds."""

import numpy as np
import pytest

from composer_app.mood.story_reader_training import balanced_weights, cross_validated_predictions, fit, similarity_groups


def test_both_signs_weigh_the_same():
    signs = np.array([True, True, True, False])
    weights = balanced_weights(signs)
    assert weights[signs].sum() == pytest.approx(weights[~signs].sum())
    assert weights.sum() == pytest.approx(len(signs))
    assert balanced_weights(np.array([True, True])) == pytest.approx([1.0, 1.0])


def test_a_sign_that_is_rarer_in_training_still_sits_at_zero():
    # one feature that says nothing about the sign: balanced, the bias stays at the midpoint of the
    # two classes' labels (0); unbalanced it would lean to the common sign
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1)) * 1e-3
    y = np.array([[0.5, 0.5]] * 30 + [[-0.5, -0.5]] * 10, dtype=np.float32)
    _, bias = fit(x, y, alpha=1.0)
    assert bias == pytest.approx([0.0, 0.0], abs=0.01)


def test_near_copies_share_a_group_and_so_a_fold():
    base = np.eye(4)
    close = base[0] * 0.9 + base[1] * 0.1
    rows = np.vstack([base, close / np.linalg.norm(close)])
    groups = similarity_groups(rows, threshold=0.6)
    assert groups[0] == groups[4]
    assert len(set(groups.tolist())) == 4
    # a row's copy is never in the training folds that predict it: predicting a copy of a lone
    # training point gives back only the bias, not the copy's label
    x = np.vstack([rows, rows[:1]])
    y = np.array([[1.0, 1.0], [-1.0, -1.0], [-1.0, -1.0], [-1.0, -1.0], [1.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    predicted = cross_validated_predictions(x, y, alpha=1e-3, groups=similarity_groups(x, threshold=0.6))
    assert predicted[0, 0] < 0.5
