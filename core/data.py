"""Load the catalogue that the settings point at, once per process."""

from __future__ import annotations

import logging
import threading

from .catalogue import Catalogue
from .dataset import ensure_dataset
from .settings import Settings

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_LOADED: dict[str, Catalogue] = {}


def load_catalogue(settings: Settings) -> Catalogue:
    """Return the catalogue for these settings, fetching the default dataset on first use."""
    folder = ensure_dataset(settings.data_dir, settings.dataset_dir)
    key = str(folder.resolve())
    with _LOCK:
        if key not in _LOADED:
            log.info("Reading MovieLens-100K from %s", folder)
            _LOADED[key] = Catalogue.load(folder)
        return _LOADED[key]
