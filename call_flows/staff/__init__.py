"""Staff: accounts, sign-in, who sees what (R9)."""
