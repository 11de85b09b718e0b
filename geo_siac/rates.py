"""Rates over a population: one definition for the heat map, the coverage analysis and the transparency
indicators."""

import numpy as np


def per_1000(count: float, population: float | None) -> float | None:
    """Reports per 1,000 inhabitants; None when the population is unknown or zero (no rate, which is not a rate of 0)."""
    return count * 1000 / population if population else None


def per_1000_many(counts, populations) -> np.ndarray:
    """per_1000 for arrays, NaN where it gives None."""
    counts, populations = np.asarray(counts, dtype=float), np.asarray(populations, dtype=float)
    known = np.isfinite(populations) & (populations != 0)
    return np.divide(counts * 1000, populations, out=np.full(len(counts), np.nan), where=known)
