"""Data files of the metrics package (the German sentiment lexicon)."""
