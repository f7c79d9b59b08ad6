"""Library-style modules for the bound-primitives tests (imported fresh by them)."""
