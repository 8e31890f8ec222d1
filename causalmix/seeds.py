"""Common random numbers: one run seed, independent named streams.

For one (dataset, n_train, seed) every method must see the same split, the same per-step
context/query partitions and the same initial weights; only the synthetic rows may differ. Each
use of randomness therefore draws from its own stream, a child of ``SeedSequence(seed)``
(``spawn_key``), so an augmenting method's extra draws never shift anyone else's numbers:

- ``split``: the low-data split (:func:`causalmix.data.low_data_split` seeds it with the run seed
  itself, the root of the sequence, independent of every child below);
- ``partitions``: the per-step stratified context/query partitions of the real training rows;
- ``generator_fit``: the seed handed to a generator's own fitting (SCM discovery, copulas, ...);
- ``synthetic``: the synthetic-row draws during fine-tuning;
- ``features``: the seeded column selection of a table wider than the model accepts.

The initial weights are the checkpoint's, identical for every method.

>>> bool(stream(0, "partitions").integers(100) == stream(0, "partitions").integers(100))
True
>>> stream_seed(0, "synthetic") != stream_seed(0, "partitions")
True
"""

from __future__ import annotations

import numpy as np

STREAMS = ("partitions", "generator_fit", "synthetic", "features")


def stream(seed: int, name: str) -> np.random.Generator:
    """The named stream of ``seed`` (a fresh generator each call)."""
    if name not in STREAMS:
        raise ValueError(f"Unknown random stream {name!r}; valid: {', '.join(STREAMS)}.")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(STREAMS.index(name) + 1,)))


def stream_seed(seed: int, name: str) -> int:
    """An int seed drawn from the named stream (for APIs that take ``random_state=int``)."""
    return int(stream(seed, name).integers(2**31 - 1))
