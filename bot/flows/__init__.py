"""The conversation engine: flows declared as steps, run, persisted, resumed (see engine.py)."""
