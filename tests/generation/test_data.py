"""The data pipeline: corpus conversion, the cache, the held-out split, user .mid folders."""

import numpy as np
import pytest

from composer_app.generation import data
from composer_app.generation.dataset import WindowSampler, tokenize_pieces
from composer_app.generation import tokenizer as tk


def test_heldout_split_is_deterministic_and_about_five_percent():
    ids = [f"essenFolksong/x.abc#{i}" for i in range(4000)]
    share = np.mean([data.is_heldout(i) for i in ids])
    assert 0.03 < share < 0.07
    assert [data.is_heldout(i) for i in ids[:50]] == [data.is_heldout(i) for i in ids[:50]]


def test_reserved_collection_is_refused():
    with pytest.raises(ValueError, match="reserved"):
        data.load_corpus(["oneills1850"])
    with pytest.raises(ValueError, match="reserved"):
        data.corpus_files(["oneills1850"])


def test_convert_a_few_corpus_works_into_a_versioned_cache(tmp_path):
    root = data.corpus_root()
    rows = data.convert_file(str(root / "bach" / "bwv66.6.mxl"), "bach/bwv66.6.mxl")
    assert len(rows) == 1
    source_id, notes, signatures = rows[0]
    assert source_id == "bach/bwv66.6.mxl#0"
    assert notes.shape[1] == 3 and len(notes) > 150  # four voices
    assert signatures[0].tolist() == [0, 4, 4]
    # pickup: the first onset is padded to the end of a full first bar
    assert notes[0, 0] == 3 * data.CORPUS_TICKS_PER_QUARTER
    data._save_rows(tmp_path / "bach__bwv66.6.mxl.npz", rows)
    pieces = data.load_corpus(["bach"], tmp_path)
    assert len(pieces) == 1 and np.array_equal(pieces[0].notes, notes)
    items = tokenize_pieces(pieces)
    assert tk.grammar_errors(items[0].tokens) == []
    window = WindowSampler(items, 64, seed=0).window()
    assert window.shape == (65,)


def test_folder_of_midi_files(midi_folder):
    pieces = data.load_midi_folder(midi_folder)
    assert len(pieces) == 12
    assert all(p.velocities is not None for p in pieces)
    assert {tuple(p.time_signatures[0]) for p in pieces} == {(0, 3, 4), (0, 4, 4)}
    train, heldout = data.split(pieces)
    assert len(train) + len(heldout) == 12


def test_mode_flip_augmentation_turns_major_into_the_parallel_minor():
    from composer_app.generation.dataset import mode_flip_tokens

    notes = np.array([(i * 12, 12, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])])
    tokens, _ = tk.notes_to_tokens(notes, controls=[tk.BarControls(0, 3, 3)] * 2)
    flipped = mode_flip_tokens(np.array(tokens))
    decoded = tk.tokens_to_notes(flipped)
    assert decoded.notes[:, 2].tolist() == [60, 62, 63, 65, 67, 68, 70, 72]
    assert all(c.key == 1 for c in decoded.controls)  # C minor
    back = tk.tokens_to_notes(mode_flip_tokens(flipped))
    assert back.notes[:, 2].tolist() == [60, 62, 64, 65, 67, 69, 71, 72]
    assert tk.grammar_errors(flipped.tolist()) == []


def test_abc_key_fields_become_key_signatures(tmp_path):
    from composer_app.generation.data import abc_key_signature, abc_key_signatures

    assert [abc_key_signature(k) for k in ("G", "A Dorian", "Edor", "Bb", "F#m", "Dmix", "C % comment")] == [1, 1, 2, -2, 3, 1, 0]
    assert abc_key_signature("Hp") is None and abc_key_signature("none") is None and abc_key_signature("D exp _b ^f") is None
    path = tmp_path / "tunes.abc"
    path.write_text("X:1\nT:one\nK:G\nGABc|\n\nX:2\nT:two\nM:6/8\nK:A Dorian\nABc|K:D\nd|\n")
    assert abc_key_signatures(path) == {"1": 1, "2": 1}
