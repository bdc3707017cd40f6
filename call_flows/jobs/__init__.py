"""Reliable side effects: the transactional outbox and the tasks it runs."""
