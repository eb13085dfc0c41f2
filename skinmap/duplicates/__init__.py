"""Near-duplicate verification: candidates come from the vector neighbours, local features decide."""
