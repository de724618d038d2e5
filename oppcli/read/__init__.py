"""Reading: opportunities as plain records for reports and lists, from the working tree
(through the index) or from the history (as of a day, what changed, a deal's story)."""
