"""Reports: saved definitions of a product's analytics, with their mutations."""
