"""Output writers: results to text, JSON, TSV (PAGE-XML and ALTO come as plugins too)."""
