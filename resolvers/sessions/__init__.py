"""Sessions: the Session type, a device's visit with its start, duration and end."""
