"""Web hits (pageviews and events of web sites) in the ingestion engine.

A web hit is a `TrackRequest` whose `web` holds what a browser's hit carries beyond its path (browser, system,
screen, location, language, campaign, referrer scheme, session, bot): `hits.prepare` turns what a client sent
into such a request, applying the web rules (path cleaning, campaigns, sessions without cookies, bots); the
engine writes web hits with `writer.write_web_batch`, their events rows, paths, first visits and the rollups the
web analytics read (`resolvers/web`), in the transaction of their batch.
"""
