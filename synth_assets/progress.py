"""Progress reporting passed in, not patched (as mostlyai-engine's `ProgressCallback`).

A synthesizer's `fit(..., progress_callback=cb)` calls `cb(total=, completed=, message=)`; the
caller decides how to show it: `TqdmProgress` for `verbose=True`, the Dagster run log in the
Dagster layer. A leaf module: it imports nothing of ours.

`message` is a dict; the keys used by our synthesizers are `stage` ('fit', 'sample', a table
name...), `epoch`, `loss`, `val_loss` and `eta_seconds` (any may be missing).
"""

from __future__ import annotations

from typing import Any, Protocol


class ProgressCallback(Protocol):
    def __call__(self, total: int | None = None, completed: int | None = None,
                 advance: int | None = None, message: dict | None = None, **kwargs: Any) -> Any: ...


def null_progress(total=None, completed=None, advance=None, message=None, **kwargs):
    """The callback used when the caller passes none."""
    return None


def check_progress_callback(progress_callback) -> ProgressCallback:
    if progress_callback is None:
        return null_progress
    if not callable(progress_callback):
        raise TypeError(f"`progress_callback` must be callable, got {type(progress_callback).__name__}.")
    return progress_callback


class TqdmProgress:
    """Shows progress as a tqdm bar (what `verbose=True` uses); close() when done."""

    def __init__(self, desc: str = "fit", unit: str = "epoch"):
        self._desc, self._unit, self._bar = desc, unit, None

    def __call__(self, total=None, completed=None, advance=None, message=None, **kwargs):
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=self._desc, unit=self._unit)
        if total is not None:
            self._bar.total = total
        if completed is not None:
            self._bar.n = completed
            self._bar.refresh()
        elif advance:
            self._bar.update(advance)
        if message:
            shown = {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in message.items() if k != "stage"}
            self._bar.set_postfix(shown)

    def close(self):
        if self._bar is not None:
            self._bar.close()
