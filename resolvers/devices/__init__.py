"""Devices (the people a product sees): the Device type with its sessions, events and metrics."""
