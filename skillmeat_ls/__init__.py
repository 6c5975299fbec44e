"""skillmeat-ls: a language server and linter for SkillMeat deployment files."""

__version__ = "0.1.0"
