"""One registry describes each synthesizer kind; the spec, the factory, the translator, run
config and the Component all read it."""

import typing
from dataclasses import replace

import pytest

pytest.importorskip("dagster")

from synth_assets.dagster import registry  # noqa: E402
from synth_assets.dagster.component import SynthesizerComponent, SynthesizerScaffoldParams  # noqa: E402
from synth_assets.dagster.specs import SynthesizerSpec  # noqa: E402
from synth_assets.dagster.steps import SampleConfig, make_synthesizer  # noqa: E402
from synth_assets.dagster.translator import synthesizer_code_version  # noqa: E402
from synth_assets.multi_table.independent import TABLE_SYNTHESIZERS  # noqa: E402

COPULA = dict(name="t", synthesizer="GaussianCopulaSynthesizer", sources={"t": "/x/t.parquet"},
              metadata={"columns": {"a": {"sdtype": "numerical"}}})


def test_every_kind_loads_its_class_and_the_core_table_models_are_registered():
    for name, entry in registry.REGISTRY.items():
        assert entry.load().__name__ == name
    assert set(TABLE_SYNTHESIZERS) <= set(registry.REGISTRY)
    assert all(registry.REGISTRY[n].table_model for n in TABLE_SYNTHESIZERS)


def test_the_component_and_run_config_follow_the_registry():
    literal = typing.get_args(SynthesizerComponent.model_fields["synthesizer"].annotation)
    assert literal == registry.SYNTHESIZERS == typing.get_args(SynthesizerScaffoldParams.model_fields["synthesizer"].annotation)
    assert set(registry.SIZE_FIELDS) <= set(SampleConfig.model_fields)


def test_spec_factory_and_translator_read_the_registry(monkeypatch):
    spec = SynthesizerSpec(**COPULA)
    assert type(make_synthesizer(spec)).__name__ == "GaussianCopulaSynthesizer"
    before = synthesizer_code_version(spec)
    entry = registry.REGISTRY["GaussianCopulaSynthesizer"]
    monkeypatch.setitem(registry.REGISTRY, "GaussianCopulaSynthesizer", replace(entry, model_version="2", uses_gpu=True))
    assert synthesizer_code_version(spec) != before  # a model-version bump refits
    assert SynthesizerSpec(**COPULA).uses_gpu()  # GPU use comes from the registry too
    with pytest.raises(ValueError, match="CTGANSynthesizer"):  # a table-model kind only
        SynthesizerSpec(**{**COPULA, "synthesizer": "CTGANSynthesizer"})
