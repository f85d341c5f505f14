"""Domain model: plain data, ids and errors shared by every adapter."""
