"""Data quality: finding duplicate customers and merging them (merge: one pair, field by
field, with every child row moved to the survivor; bulk: many pairs, previewed first)."""
