"""Work a gateway process does besides answering requests: export jobs, housekeeping and the live feed.

Each is a task started with the application and stopped with it (`tasks.cancel_and_wait`); anything they
share across processes lives in PostgreSQL (job rows, LISTEN/NOTIFY), so any worker can do any of it.
"""
