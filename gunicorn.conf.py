"""gunicorn reads this file from the working directory: caller numbers are masked in its logs (R9)."""
logger_class = "app.log_privacy.MaskingGunicornLogger"
