"""The curated, cited dataset bundled with listwatch (authorities, lists, entities, events)."""

from listwatch.registry.curated.loader import (
    CURATED_DIR,
    CuratedDataset,
    CuratedError,
    curated_is_current,
    load_dataset,
    sync_curated,
)

__all__ = [
    "CURATED_DIR",
    "CuratedDataset",
    "CuratedError",
    "curated_is_current",
    "load_dataset",
    "sync_curated",
]
