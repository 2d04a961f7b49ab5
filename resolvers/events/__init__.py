"""Events, the occurrences a product records (pageviews are events with a path): the Event type."""
