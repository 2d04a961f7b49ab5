"""FollowAnalytics' platform API (`/api/...` other than `/api/v0`, and `/segments/...`) over the graph.

Scripts written for FollowAnalytics log in with `POST /api/login`, send `Authorization: Token <token>` and read
apps, events, sessions, devices, segments, customer profiles and exports in the vendor's envelope
(`{"success":true,"result":...}`, compact JSON). Each request runs the `.graphql` documents of
`operations/` in process and reshapes their result; exports are the graph's Export jobs.
"""
