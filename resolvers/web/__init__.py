"""The web analytics domain of the graph: a product's paths and its pageviews and visitors, per path and per
dimension (referrers, browsers, systems, screen sizes, locations, languages, campaigns), read from `web_rollups`."""
