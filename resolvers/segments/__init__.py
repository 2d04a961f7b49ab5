"""Segments: filters over device attributes, with their member devices and their mutations."""
