"""`aisec model validate`: robustness, membership privacy, extraction cost and fairness
of classifiers that are not LLMs, on targets that never unpickle."""
