"""The line manager's callback tasks (T5, M1, M2): the queue, claiming, dialling."""
