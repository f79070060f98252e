"""Test-only code: generated models, weights and real processes; never installed."""
