"""Tests of weak_supervision agreement, Dawid-Skene, human level and `labelapp agreement`."""
