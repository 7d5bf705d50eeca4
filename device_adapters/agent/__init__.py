"""The chair agent: owns one stimulator, records what it delivers, and reports to the service.

Every event goes to a local, fsync'd SQLite outbox first and is then sent in batches; the service
stores each ``(device, device_session, seq)`` once, so re-sending after a crash or a network cut is safe.
"""
