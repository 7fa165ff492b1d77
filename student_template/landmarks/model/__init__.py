"""The landmarks models: ``model.target.Target`` and ``model.source.Source``."""
