"""The pytest plugin's parts; the hooks are in :mod:`harness.pytest_plugin`, the entry
point. Nothing here imports an engine at module level."""
