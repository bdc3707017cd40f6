"""A call from ring to hang-up: ring time, the handler's controls, status callbacks, what staff see."""
