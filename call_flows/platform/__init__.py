"""The call platform: Twilio, or the simulated one of the embedded default."""
