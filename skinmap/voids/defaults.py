"""The method's defaults, in a module without imports, so `skinmap --help` does not load scipy."""
K = 30  # neighbours per landmark: the authors' --eff-k
LANDMARKS = 1000
NULL_DRAWS = 19  # smallest p-value 1/20 = 0.05
ALPHA = 0.05
MAX_VOIDS = 20
SEED = 17
