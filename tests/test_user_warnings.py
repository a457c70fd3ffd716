"""Warnings nbgrad gives for PyTorch's C++ warnings point at the user's line, however deep in
nbgrad they are raised and whether or not an autocast entry point wraps the op (amp's view of
the warnings module leaves those frames out; the walk in _user_warning counts them itself)."""
import warnings

import pytest

import nbgrad
from nbgrad import _user_warning

CASES = {
    'var with no degrees of freedom': lambda: nbgrad.zeros(1, 3).var(dim=1, correction=5),
    "functional conv1d, padding='same', even kernel": lambda: nbgrad.nn.functional.conv1d(
        nbgrad.zeros(1, 1, 5), nbgrad.zeros(1, 1, 2), padding='same'),
    "Conv1d, padding='same', even kernel": lambda: nbgrad.nn.Conv1d(1, 1, 2, padding='same')(
        nbgrad.zeros(1, 1, 5)),
    'Tensor.storage() (TypedStorage is deprecated)': lambda: nbgrad.arange(3.).storage(),
    'RNN dropout with one layer': lambda: nbgrad.nn.RNN(2, 2, dropout=0.5),
    'TransformerEncoder, enable_nested_tensor with norm_first': lambda: (
        nbgrad.nn.TransformerEncoder(nbgrad.nn.TransformerEncoderLayer(4, 2, norm_first=True,
                                                                       batch_first=True), 1)),
    'MultiheadAttention, mismatched mask types': lambda: nbgrad.nn.MultiheadAttention(4, 2)(
        *[nbgrad.zeros(3, 1, 4)] * 3, key_padding_mask=nbgrad.zeros(1, 3, dtype=nbgrad.bool),
        attn_mask=nbgrad.zeros(3, 3)),
}


@pytest.mark.parametrize('case', CASES, ids=str)
def test_warning_points_at_the_callers_line(case, monkeypatch):
    monkeypatch.setattr(_user_warning, '_warned', set())     # (the warn-once ones too)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        CASES[case]()
    assert caught, 'no warning'
    # this file (the case's lambda), not nbgrad's nor a frame past the stack's end ('sys')
    assert {w.filename for w in caught} == {__file__}


def test_warn_once_warnings_come_once(monkeypatch):
    monkeypatch.setattr(_user_warning, '_warned', set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(3):
            nbgrad.arange(3.).storage()
    assert len(caught) == 1
