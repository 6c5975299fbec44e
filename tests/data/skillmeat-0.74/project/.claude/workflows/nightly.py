"""Nightly orchestration."""
print("nightly")
