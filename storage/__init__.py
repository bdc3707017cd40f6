"""Storage adapters: database-specific fast paths the domain (call_flows/) stays portable without."""
