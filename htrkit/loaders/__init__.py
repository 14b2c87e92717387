"""Input loaders: files to pages."""
