"""Predictions: the BG/NBD and Gamma-Gamma models fitted to the customers' repeat purchases,
the stored scores (probability active, expected purchases in 90 days, 12-month value), the
holdout check that shows how well the model fits, and the readers the pages use."""
