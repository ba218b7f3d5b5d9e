"""Files for SynthesizerComponent: the scaffold template (scaffold_defs.yaml) and an example
component folder (example/: defs.yaml, metadata.json, customers.csv)."""
