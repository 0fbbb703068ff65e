# SPDX-License-Identifier: MIT
"""benchstat.py - the one way the bench scripts print a figure over rounds."""
import statistics


def fmt(vals, spec="%.1f"):
    """'median (min-max)' of a list of figures; the figure alone for one round."""
    if len(vals) == 1:
        return spec % vals[0]
    return "%s (%s-%s)" % (spec % statistics.median(vals), spec % min(vals), spec % max(vals))
