"""What blocks treatment of this patient today, and why: the one gate function."""
