"""What happens on a call, as plain code: no Flask imports live under this package."""
