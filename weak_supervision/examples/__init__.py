"""Example labeling functions on real data (the demo project uses them)."""
