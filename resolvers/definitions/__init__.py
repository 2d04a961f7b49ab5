"""Event and property definitions of a product: every event key and property name seen, with first and last
use, kept by the ingestion engine.
"""
