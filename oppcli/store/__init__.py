"""Storage: the only layer that touches files and git. Reading the data repo, changing it
one commit at a time (lock, journal, atomic writes), undo, and team sync."""
