"""Incident records (I1-I8), case notes, deadlines and trends."""
