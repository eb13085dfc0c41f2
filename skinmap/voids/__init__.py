"""Structural voids: H1 persistent homology of landmarks under an effective-resistance distance.

Follows the authors' `src/hole_detection/` (Digital-Dermatology/skinmap-code):
a symmetric, unweighted kNN graph (k = 30), effective-resistance distances
with the optional von Luxburg correction, ripser H1 (maxdim 1) on random
landmarks. What SkinMap adds: a Gaussian null for significance, a boundary
cycle per void, and tables + dbt views instead of CSV files.
"""
