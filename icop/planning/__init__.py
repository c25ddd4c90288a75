"""Module 1, planning: the content plan, sub-topics without duplicates, and the sheet write-back."""
