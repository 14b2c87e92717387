"""Language models for decoding: n-gram estimation (modified Kneser-Ney) and ARPA files."""
