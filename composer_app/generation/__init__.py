"""Generators (torch): tokenizer, networks, sampling, registry, engine, data, training, evaluation."""
