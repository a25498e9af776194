"""Period summaries: the figures, suppression of small numbers, the drafted report and its charts."""
