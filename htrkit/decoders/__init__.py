"""Built-in CTC decoders: best path (greedy) and prefix beam search."""
